using System.CommandLine;
using System.Diagnostics;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.IO;

namespace ObjectRetrieval.Cli.Commands;

/// <summary><c>objret gen-vectors</c>: synthetic clustered unit vectors (and queries near the same centres) for index benchmarks.</summary>
internal static class GenVectorsCommand
{
    public static Command Create()
    {
        var clustered = new Option<bool>("--clustered") { Description = "Clustered vectors around random unit centres (the only layout offered; accepted for clarity)." };
        var count = new Option<int>("--n") { Description = "Number of base vectors.", DefaultValueFactory = _ => 100_000 };
        var dim = new Option<int>("--dim") { Description = "Dimension.", DefaultValueFactory = _ => 512 };
        var centres = new Option<int>("--centres") { Description = "Number of cluster centres.", DefaultValueFactory = _ => 2_000 };
        var cosine = new Option<float>("--cosine") { Description = "Cosine of each vector to its centre.", DefaultValueFactory = _ => 0.75f };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed gives the same files.", DefaultValueFactory = _ => 42 };
        var output = new Option<FileInfo>("--out") { Description = "Base vectors file (.fvecs or .npy).", Required = true };
        var queries = new Option<int>("--queries") { Description = "Number of query vectors (new points near random centres).", DefaultValueFactory = _ => 0 };
        var queriesOut = new Option<FileInfo?>("--queries-out") { Description = "Query vectors file (.fvecs or .npy); required with --queries." };
        var multi = new Option<bool>("--multi") { Description = "Multi-vector images (K consecutive rows each, concepts of Zipf popularity) with text-like queries; --centres is the concept count, --cosine each vector's cosine to its concept." };
        var images = new Option<int>("--images") { Description = "With --multi: number of images.", DefaultValueFactory = _ => 100_000 };
        var perImage = new Option<int>("--vectors-per-image") { Description = "With --multi: vectors per image (K).", DefaultValueFactory = _ => 16 };
        var queryCosine = new Option<float>("--query-cosine") { Description = "With --multi: a query's cosine to its main concept.", DefaultValueFactory = _ => 0.4f };
        var zipf = new Option<double>("--zipf") { Description = "With --multi: Zipf exponent of concept popularity (0: uniform).", DefaultValueFactory = _ => 1.0 };

        var command = new Command("gen-vectors", "Generate clustered unit vectors for index benchmarks.")
        {
            clustered, count, dim, centres, cosine, seed, output, queries, queriesOut, multi, images, perImage, queryCosine, zipf,
        };
        command.SetAction((ParseResult r, CancellationToken ct) => Task.FromResult(Execute(r, ct)));
        return command;

        int Execute(ParseResult r, CancellationToken ct)
        {
            if (r.GetValue(multi)) return ExecuteMulti(r, ct);
            int n = r.GetValue(count);
            int queryCount = r.GetValue(queries);
            FileInfo? queryFile = r.GetValue(queriesOut);
            if (n <= 0) return Fail("--n must be positive.");
            if (queryCount > 0 && queryFile is null) return Fail("--queries needs --queries-out.");

            var generator = new ClusteredVectorGenerator(r.GetValue(dim), r.GetValue(centres), r.GetValue(cosine), r.GetValue(seed));
            var clock = Stopwatch.StartNew();
            Write(generator, n, ClusteredVectorGenerator.BaseStream, r.GetValue(output)!.FullName, ct);
            Console.WriteLine($"wrote {n} × {generator.Dimension} vectors ({generator.CentreCount} centres, cosine {generator.Cosine}) to {r.GetValue(output)!.FullName} in {clock.Elapsed.TotalSeconds:F1} s");
            if (queryCount > 0)
            {
                Write(generator, queryCount, ClusteredVectorGenerator.QueryStream, queryFile!.FullName, ct);
                Console.WriteLine($"wrote {queryCount} queries to {queryFile.FullName}");
            }

            return 0;
        }

        int ExecuteMulti(ParseResult r, CancellationToken ct)
        {
            int imageCount = r.GetValue(images);
            int queryCount = r.GetValue(queries);
            FileInfo? queryFile = r.GetValue(queriesOut);
            string path = r.GetValue(output)!.FullName;
            if (imageCount <= 0) return Fail("--images must be positive.");
            if (queryCount > 0 && queryFile is null) return Fail("--queries needs --queries-out.");
            if (!path.EndsWith(".fvecs", StringComparison.OrdinalIgnoreCase)) return Fail($"{path}: --multi writes .fvecs files.");
            MultiVectorGenerator generator;
            try
            {
                generator = new MultiVectorGenerator(r.GetValue(dim), r.GetValue(perImage), r.GetValue(centres), r.GetValue(cosine), r.GetValue(queryCosine), r.GetValue(zipf), r.GetValue(seed));
            }
            catch (ArgumentOutOfRangeException e)
            {
                string option = e.ParamName switch
                {
                    "queryCosine" => "--query-cosine",
                    "vectorCosine" => "--cosine",
                    "conceptCount" => "--centres",
                    "vectorsPerImage" => "--vectors-per-image",
                    "dimension" => "--dim",
                    "zipfExponent" => "--zipf",
                    _ => e.ParamName ?? "a setting",
                };
                return Fail($"{option}: {e.Message.Split(" (Parameter", 2)[0]}");
            }

            var clock = Stopwatch.StartNew();
            string? directory = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            using (var writer = new VectorFileWriter<float>(path, generator.Dimension))
            {
                generator.GenerateImages(imageCount, (vectors, _) =>
                {
                    ct.ThrowIfCancellationRequested();
                    writer.Append(vectors);
                });
            }

            Console.WriteLine($"wrote {imageCount} images × {generator.VectorsPerImage} vectors × {generator.Dimension} ({generator.ConceptCount} concepts, Zipf {r.GetValue(zipf)}, cosine {generator.VectorCosine}) to {path} in {clock.Elapsed.TotalSeconds:F1} s");
            if (queryCount > 0)
            {
                VectorFiles.WriteFvecs(queryFile!.FullName, generator.GenerateQueries(queryCount), generator.Dimension);
                Console.WriteLine($"wrote {queryCount} text-like queries (cosine {generator.QueryCosine} to the main concept) to {queryFile.FullName}");
            }

            return 0;
        }
    }

    private static void Write(ClusteredVectorGenerator generator, int count, int stream, string path, CancellationToken ct)
    {
        string? directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            // .npy wants the whole array at once: one copy in memory.
            float[] all = generator.Generate(count, stream);
            NpyFile.Write(path, all, count, generator.Dimension);
            return;
        }

        if (!path.EndsWith(".fvecs", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"{path}: use a .fvecs or .npy file name.");
        using var writer = new VectorFileWriter<float>(path, generator.Dimension);
        generator.Generate(count, stream, (vectors, _) =>
        {
            ct.ThrowIfCancellationRequested();
            writer.Append(vectors);
        });
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
