using System.CommandLine;

namespace ObjectRetrieval.Cli.Commands;

/// <summary><c>objret eval</c>: mAP@k of global, cluster and dense retrieval on dense features or on images through a model.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var denseFeatures = new Option<string?>("--dense-features") { Description = "Directory with patches.npy [N,P,D], global.npy [N,D], image_ids.json, text.npy [C,D]." };
        var annotations = new Option<string?>("--annotations") { Description = "COCO-format instance annotations (default: annotations.json in the features directory)." };
        var grid = new Option<string?>("--grid") { Description = "Patch grid WIDTHxHEIGHT when P is not a square." };
        var evaluation = new EvaluationOptions();
        var command = new Command("eval", "Evaluate retrieval quality (mAP@k overall and on small objects) per scoring mode.")
        {
            denseFeatures, annotations, grid,
        };
        evaluation.AddTo(command);
        command.Validators.Add(r =>
        {
            if (r.GetValue(denseFeatures) is null) r.AddError("Name the input: --dense-features DIR.");
        });
        command.SetHandler((result, _) =>
            DenseEvaluationCommands.EvaluateDirectory(result.GetValue(denseFeatures)!, result.GetValue(annotations), result.GetValue(grid), result, evaluation));
        return command;
    }
}
