using System.CommandLine;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>Every top-level command of the CLI; each lives in its own file.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield break;
    }
}
