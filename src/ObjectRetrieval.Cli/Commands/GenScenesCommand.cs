using System.CommandLine;
using ObjectRetrieval.Demo;

namespace ObjectRetrieval.Cli.Commands;

/// <summary><c>objret gen-scenes --out DIR --count N --seed S</c>: synthetic scenes with COCO annotations.</summary>
internal static class GenScenesCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the images and annotations.json.", Required = true };
        var count = new Option<int>("--count") { Description = "Number of images.", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed gives the same files.", DefaultValueFactory = _ => 1 };

        var command = new Command("gen-scenes", "Write synthetic coloured-object scenes (JPEG and PNG) with COCO-format annotations.")
        {
            output, count, seed,
        };
        command.SetAction(r =>
        {
            int n = r.GetValue(count);
            if (n < 1)
            {
                Console.Error.WriteLine("error: --count must be at least 1.");
                return 1;
            }

            string directory = r.GetValue(output)!.FullName;
            IReadOnlyList<SceneImage> images = SceneGenerator.Write(directory, new SceneOptions { Count = n, Seed = r.GetValue(seed) });
            int objects = images.Sum(i => i.Objects.Count);
            int small = images.Sum(i => i.Objects.Count(o => o.Area < 32 * 32));
            Console.WriteLine($"wrote {images.Count} images with {objects} objects ({small} below 32² px) and {SceneGenerator.AnnotationsFileName} to {directory}");
            return 0;
        });
        return command;
    }
}
