using Microsoft.Extensions.Logging;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;
using ObjectRetrieval.Demo.Files;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Inference;

namespace ObjectRetrieval.Encoding.Tests;

[Collection(DemoModelCollection.Name)]
public sealed class ImageEncoderTests(DemoModelFixture demo)
{
    private static readonly IAggregator KMeans = new SphericalKMeans(new AggregationOptions { Clusters = 4, MaxIterations = 5 });

    private static ImageEncoderOptions Options(int maxBatch, TimeSpan wait) => new()
    {
        MaxBatchSize = maxBatch,
        MaxBatchWait = wait,
        KeepDensePatches = true,
        Inference = new InferenceOptions { Provider = ExecutionProviderPreference.Cpu },
    };

    [Fact]
    public async Task Hundred_concurrent_callers_each_get_their_own_result()
    {
        const int Callers = 100;
        byte[][] images = Enumerable.Range(0, Callers).Select(DistinctImage).ToArray();

        // Expected: each image encoded alone (batches of one).
        var expected = new ImageRepresentation[Callers];
        await using (ImageEncoder single = ImageEncoder.Create(demo.Package, Options(1, TimeSpan.Zero), KMeans))
        {
            for (int i = 0; i < Callers; i++) expected[i] = await single.EncodeAsync(images[i], $"img-{i}");
        }

        await using ImageEncoder batched = ImageEncoder.Create(demo.Package, Options(16, TimeSpan.FromSeconds(1)), KMeans);
        using var start = new ManualResetEventSlim(false);
        Task<ImageRepresentation>[] calls = Enumerable.Range(0, Callers)
            .Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await batched.EncodeAsync(images[i], $"img-{i}");
            }))
            .ToArray();
        start.Set();
        ImageRepresentation[] results = await Task.WhenAll(calls);

        for (int i = 0; i < Callers; i++)
        {
            Assert.Equal($"img-{i}", results[i].ImageId);
            Near.Equal(expected[i].Global, results[i].Global);
            Near.Equal(expected[i].DensePatches!, results[i].DensePatches!);
            Assert.Equal(expected[i].Assignment, results[i].Assignment);
        }

        EncoderStatsSnapshot stats = batched.Statistics.Snapshot();
        Assert.Equal(Callers, stats.ImagesEncoded);
        Assert.True(stats.Batches < Callers, $"{Callers} concurrent requests ran in {stats.Batches} batches: nothing was merged.");
        Assert.True(stats.MeanBatchViews <= 16);
    }

    [Fact]
    public async Task Representation_carries_grid_metadata_and_unit_vectors()
    {
        await using ImageEncoder encoder = ImageEncoder.Create(demo.Package, Options(4, TimeSpan.Zero), KMeans);
        byte[] image = PreprocessingTests.EncodePng(300, 200, (x, _) => x < 150 ? ((byte)220, (byte)40, (byte)40) : ((byte)128, (byte)128, (byte)128));
        ImageRepresentation representation = await encoder.EncodeAsync(image, "halves");

        // 3:2 is covered by two overlapping squares whose 14 × 14 grids merge into the image's 21 × 14 grid.
        Assert.Equal((21, 14), (representation.GridWidth, representation.GridHeight));
        Assert.Equal(21 * 14, representation.PatchCount);
        Assert.Equal("300", representation.Metadata["width"]);
        Assert.Equal(1f, Core.Embeddings.VectorMath.Norm(representation.Global), 4);
        for (int c = 0; c < representation.CentroidCount; c++) Assert.Equal(1f, Core.Embeddings.VectorMath.Norm(representation.Centroid(c)), 4);
        Assert.Equal(representation.PatchCount, representation.ClusterSizes.Sum());
    }

    [Fact]
    public async Task The_model_resize_coverage_keeps_one_square_grid()
    {
        ImageEncoderOptions options = Options(4, TimeSpan.Zero) with { Coverage = ImageCoverage.ModelResize };
        await using ImageEncoder encoder = ImageEncoder.Create(demo.Package, options, KMeans);
        ImageRepresentation representation = await encoder.EncodeAsync(DistinctImage(2), "cropped");
        Assert.Equal((14, 14), (representation.GridWidth, representation.GridHeight));
        Assert.Equal(196, representation.PatchCount);
    }

    [Fact]
    public async Task Tiles_add_patches_after_the_whole_image_grid()
    {
        ImageEncoderOptions options = Options(8, TimeSpan.Zero) with { Tiling = new TilingOptions { Grid = 2 } };
        await using ImageEncoder encoder = ImageEncoder.Create(demo.Package, options, KMeans);
        ImageRepresentation representation = await encoder.EncodeAsync(DistinctImage(1), "tiled");
        // 160 × 120: a 19 × 14 whole-image grid (two overlapping squares merged), then the four tiles' grids.
        Assert.Equal((19, 14), (representation.GridWidth, representation.GridHeight));
        Assert.Equal(19 * 14 + 4 * 196, representation.PatchCount);
    }

    [Fact]
    public async Task Streaming_keeps_input_order_and_reports_refusals_with_reasons()
    {
        using var directory = new TempDirectory();
        IReadOnlyList<BadFileCase> cases = BadFileCorpus.Write(directory.Path);
        await using ImageEncoder encoder = ImageEncoder.Create(demo.Package, Options(8, TimeSpan.FromMilliseconds(2)), KMeans);

        var sources = cases.Select(c => ImageSource.FromFile(c.PathIn(directory.Path), c.FileName)).ToList();
        sources.Add(ImageSource.FromFile(directory.File("does-not-exist.jpg"), "missing"));
        var results = new List<EncodeResult>();
        await foreach (EncodeResult result in encoder.EncodeManyAsync(sources)) results.Add(result);

        Assert.Equal(sources.Select(s => s.ImageId), results.Select(r => r.ImageId));
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.Equal(cases[i].ShouldDecode, results[i].Succeeded);
            Assert.Equal(cases[i].ExpectedFailure, results[i].Error?.Reason);
        }

        Assert.Equal(ImageDecodeFailure.Unreadable, results[^1].Error?.Reason);
        Assert.Equal(cases.Count(c => !c.ShouldDecode) + 1, encoder.Statistics.Snapshot().ImagesFailed);
    }

    [Fact]
    public async Task Forcing_cuda_on_a_machine_without_it_falls_back_to_cpu_and_says_so()
    {
        var logger = new ListLogger();
        ImageEncoderOptions options = Options(4, TimeSpan.Zero) with { Inference = new InferenceOptions { Provider = ExecutionProviderPreference.Cuda } };
        await using ImageEncoder encoder = ImageEncoder.Create(demo.Package, options, KMeans, logger);

        if (encoder.ExecutionProvider == "CUDA")
        {
            // A GPU machine: CUDA must really be in use, with no fallback recorded.
            Assert.Null(encoder.FallbackReason);
            Assert.Contains(logger.Entries, e => e.Message.Contains("CUDA execution provider", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal("CPU", encoder.ExecutionProvider);
            Assert.False(string.IsNullOrWhiteSpace(encoder.FallbackReason));
            Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("falling back to CPU", StringComparison.Ordinal));
            Assert.Contains(logger.Entries, e => e.Message.Contains("CPU execution provider", StringComparison.Ordinal));
        }

        // Whichever provider runs, it encodes.
        ImageRepresentation representation = await encoder.EncodeAsync(DistinctImage(5), "after-fallback");
        Assert.Equal(19 * 14, representation.PatchCount);
    }

    [Fact]
    public async Task One_session_serves_every_encoder_of_the_process()
    {
        await using ImageEncoder first = ImageEncoder.Create(demo.Package, Options(4, TimeSpan.Zero), KMeans);
        await using ImageEncoder second = ImageEncoder.Create(demo.Package, Options(8, TimeSpan.Zero), KMeans);
        Assert.Same(first.Tower.Session, second.Tower.Session);
    }

    [Fact]
    public async Task A_cancelled_request_is_cancelled_and_the_encoder_keeps_serving()
    {
        await using ImageEncoder encoder = ImageEncoder.Create(demo.Package, Options(4, TimeSpan.Zero), KMeans);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encoder.EncodeAsync(DistinctImage(2), "cancelled", cancelled.Token));
        Assert.Equal("next", (await encoder.EncodeAsync(DistinctImage(3), "next")).ImageId);
    }

    /// <summary>A 160×120 PNG of random coloured blocks, different for every seed.</summary>
    internal static byte[] DistinctImage(int seed)
    {
        var random = new Random(seed);
        var blocks = new (byte, byte, byte)[20];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = ((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        return PreprocessingTests.EncodePng(160, 120, (x, y) => blocks[(y / 30) * 5 + x / 32]);
    }
}
