using System.CommandLine;
using ObjectRetrieval.Encoding.Imaging;

namespace ObjectRetrieval.Cli.Commands;

/// <summary><c>objret eval</c>: mAP@k of global, cluster and dense retrieval on dense features or on images through a model.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var denseFeatures = new Option<string?>("--dense-features") { Description = "Directory with patches.npy [N,P,D], global.npy [N,D], image_ids.json, text.npy [C,D]." };
        var annotations = new Option<string?>("--annotations") { Description = "COCO-format instance annotations (default: annotations.json in the features directory)." };
        var grid = new Option<string?>("--grid") { Description = "Patch grid WIDTHxHEIGHT when P is not a square." };
        var model = new Option<string?>("--model") { Description = "Model package directory (model.json): encode the images of --dataset through it." };
        var dataset = new Option<string?>("--dataset") { Description = "Directory with annotations.json (COCO format) and the images it names." };
        var coverage = new Option<string>("--coverage") { Description = "Images through a model: 'whole' (overlapping squares cover the whole image) or 'model' (the model's own centre crop or pad).", DefaultValueFactory = _ => "whole" };
        var evaluation = new EvaluationOptions();
        var command = new Command("eval", "Evaluate retrieval quality (mAP@k overall and on small objects) per scoring mode, on dense features or on images through a model.")
        {
            denseFeatures, annotations, grid, model, dataset, coverage,
        };
        evaluation.AddTo(command);
        command.Validators.Add(r =>
        {
            bool dense = r.GetValue(denseFeatures) is not null;
            bool images = r.GetValue(model) is not null || r.GetValue(dataset) is not null;
            if (dense == images) r.AddError("Name one input: --dense-features DIR, or --model DIR with --dataset DIR.");
            else if (images && (r.GetValue(model) is null || r.GetValue(dataset) is null)) r.AddError("--model and --dataset go together.");
        });
        command.SetHandler((result, ct) => result.GetValue(denseFeatures) is { } features
            ? Task.FromResult(DenseEvaluationCommands.EvaluateDirectory(features, result.GetValue(annotations), result.GetValue(grid), result, evaluation))
            : ImageEvaluation.RunAsync(result.GetValue(model)!, result.GetValue(dataset)!, result.GetValue(annotations), ParseCoverage(result.GetValue(coverage)!), result, evaluation, ct));
        return command;
    }

    private static ImageCoverage ParseCoverage(string text) => text.Trim().ToLowerInvariant() switch
    {
        "whole" => ImageCoverage.WholeImage,
        "model" => ImageCoverage.ModelResize,
        _ => throw new ArgumentException($"--coverage '{text}' is neither 'whole' nor 'model'."),
    };
}
