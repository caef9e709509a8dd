using System.CommandLine;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Cli.Commands;

/// <summary><c>objret gen-model --out DIR</c>: writes the demo colour model package.</summary>
internal static class GenModelCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the model package into.", Required = true };
        var imageSize = new Option<int>("--image-size") { Description = "Default input side (multiple of 16).", DefaultValueFactory = _ => new DemoModelOptions().ImageSize };
        var dimension = new Option<int>("--dim") { Description = "Embedding dimension.", DefaultValueFactory = _ => new DemoModelOptions().Dimension };
        var seed = new Option<int>("--seed") { Description = "Seed of the projection matrix.", DefaultValueFactory = _ => new DemoModelOptions().Seed };
        var denseHead = new Option<string>("--dense-head")
        {
            Description = $"Dense head of the image graph: {string.Join(", ", DenseHeads.Names)}.",
            DefaultValueFactory = _ => DenseHeads.Name(DenseHead.Value),
        };
        denseHead.AcceptOnlyFromAmong([.. DenseHeads.Names]);

        var command = new Command("gen-model", "Write the built-in demo model (colour prototypes as ONNX, CLIP contract) to a folder.")
        {
            output, imageSize, dimension, seed, denseHead,
        };
        command.SetAction(r =>
        {
            var options = new DemoModelOptions
            {
                ImageSize = r.GetValue(imageSize), Dimension = r.GetValue(dimension), Seed = r.GetValue(seed),
                DenseHead = DenseHeads.Parse(r.GetValue(denseHead)!)!.Value,
            };
            try
            {
                ModelPackage package = DemoModelGenerator.Write(r.GetValue(output)!.FullName, options);
                Console.WriteLine(
                    $"wrote {package.Name} v{package.Version} to {package.Directory}: input {package.Image.ImageSize} px, " +
                    $"{package.Image.GridSize}×{package.Image.GridSize} patches, D={package.EmbeddingDim}, dense head {DenseHeads.Name(package.DenseHead)}");
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
