using System.CommandLine;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>Every top-level command of the CLI; each lives in its own file.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return ServeCommand.Create();
        yield return IngestCommand.Create();
        yield return ClusterCommand.Create();
        yield return KeysCommand.Create();
        yield return EvalCommand.Create();
        yield return DenseEvaluationCommands.GenDense();
        yield return DenseEvaluationCommands.EvalSynthetic();
        yield return DenseEvaluationCommands.StudyAggregation();
        yield return GenVectorsCommand.Create();
        yield return GenModelCommand.Create();
        yield return GenScenesCommand.Create();
        yield return new Command("bench", "Measure speed and quality of the engine's parts.") { BenchIndexCommand.Create(), BenchEncodeCommand.Create(), BenchSearchCommand.Create(), IngestCommand.CreateBench(), Shards.BenchShardFaultsCommand.Create(), Shards.BenchShardWriteCommand.Create() };
    }
}
