using System.Globalization;
using Azure.Storage.Blobs;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Demo.Files;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>
/// The files every ingest test reads: generated scenes (small, so encoding is quick), a hostile corpus of
/// every kind of file the encoder refuses plus files over the job's size limit, and a few files the
/// extension filter skips. Written once to a directory and uploaded once to a blob container.
/// </summary>
public sealed class IngestCorpus
{
    public const int Images = 2000;
    public const int BadFiles = 50;
    public const int NotImages = 3;

    /// <summary>The jobs' size limit; the "oversized" cases are above it, every other file far below.</summary>
    public const long MaxBytes = 256 * 1024;

    private IngestCorpus(string directory, IReadOnlyDictionary<string, string> expectedFailures)
    {
        Directory = directory;
        ExpectedFailures = expectedFailures;
    }

    public string Directory { get; }

    /// <summary>Relative name of each bad file → the reason its failure record must give.</summary>
    public IReadOnlyDictionary<string, string> ExpectedFailures { get; }

    public static IngestCorpus Write(string directory)
    {
        string scenes = Path.Combine(directory, "scenes");
        SceneGenerator.Write(scenes, new SceneOptions { Count = Images, Seed = 11, MinSide = 48, MaxSide = 80 });
        File.Delete(Path.Combine(scenes, SceneGenerator.AnnotationsFileName));

        string samples = Path.Combine(directory, "..", Path.GetFileName(directory) + "-bad-samples");
        var refused = BadFileCorpus.Write(samples).Where(c => !c.ShouldDecode).ToList();
        var kinds = refused.Select(c => (Name: c.FileName, Bytes: File.ReadAllBytes(c.PathIn(samples)), Reason: c.ExpectedFailure!.Value.ToString())).ToList();
        var oversized = new byte[MaxBytes + 1];
        new Random(5).NextBytes(oversized);
        kinds.Add(("oversized.jpg", oversized, "TooLarge"));

        string bad = Path.Combine(directory, "bad");
        System.IO.Directory.CreateDirectory(bad);
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < BadFiles; i++)
        {
            var kind = kinds[i % kinds.Count];
            string name = string.Create(CultureInfo.InvariantCulture, $"bad/{i:D2}-{kind.Name}");
            File.WriteAllBytes(Path.Combine(directory, name), kind.Bytes);
            expected[name] = kind.Reason;
        }

        for (int i = 0; i < NotImages; i++)
        {
            File.WriteAllText(Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"notes-{i}.txt")), "not an image");
        }

        System.IO.Directory.Delete(samples, recursive: true);
        return new IngestCorpus(directory, expected);
    }

    public IEnumerable<string> Files() => System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories)
        .Select(path => Path.GetRelativePath(Directory, path).Replace('\\', '/'));

    /// <summary>Uploads every file under the same relative name.</summary>
    public async Task UploadAsync(BlobContainerClient container)
    {
        await container.CreateIfNotExistsAsync();
        await Parallel.ForEachAsync(Files(), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (name, ct) =>
        {
            await using FileStream stream = File.OpenRead(Path.Combine(Directory, name));
            await container.GetBlobClient(name).UploadAsync(stream, overwrite: true, ct);
        });
    }
}
