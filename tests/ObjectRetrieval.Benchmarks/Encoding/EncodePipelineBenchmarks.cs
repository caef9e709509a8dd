using BenchmarkDotNet.Attributes;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Demo;
using ObjectRetrieval.Encoding;
using ObjectRetrieval.Encoding.Imaging;
using ObjectRetrieval.Encoding.Inference;
using ObjectRetrieval.Encoding.Models;

namespace ObjectRetrieval.Benchmarks.Encoding;

/// <summary>
/// The encode path's stages on the demo model and generated scenes (320–1024 px JPEG/PNG): decoding one
/// image to model pixels, bare inference on a pre-decoded batch, and the whole pipelined path for a batch.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("encode")]
public class EncodePipelineBenchmarks
{
    private const int Images = 16;

    private string _directory = null!;
    private byte[][] _encoded = null!;
    private ImageEncoder _encoder = null!;
    private float[] _batch = null!;
    private int _next;

    [Params(224, 448)]
    public int ImageSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "objret-bench-encode-" + Guid.NewGuid().ToString("N"));
        ModelPackage package = DemoModelGenerator.Write(Path.Combine(_directory, "model"), new DemoModelOptions { ImageSize = ImageSize });
        string scenes = Path.Combine(_directory, "scenes");
        IReadOnlyList<SceneImage> images = SceneGenerator.Write(scenes, new SceneOptions { Count = Images, Seed = 3 });
        _encoded = images.Select(i => File.ReadAllBytes(Path.Combine(scenes, i.FileName))).ToArray();

        var options = new ImageEncoderOptions { MaxBatchSize = Images, Inference = new InferenceOptions { Provider = ExecutionProviderPreference.Cpu } };
        _encoder = ImageEncoder.Create(package, options, new SphericalKMeans(new AggregationOptions { Clusters = 8 }));

        int valuesPerView = 3 * ImageSize * ImageSize;
        _batch = new float[Images * valuesPerView];
        for (int i = 0; i < Images; i++)
        {
            using PreprocessedImage image = _encoder.Preprocessor.Preprocess(_encoded[i]);
            image.Pixels.CopyTo(_batch.AsSpan(i * valuesPerView));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "decode one image to model pixels")]
    public int Decode()
    {
        using PreprocessedImage image = _encoder.Preprocessor.Preprocess(_encoded[_next++ % Images]);
        return image.ViewCount;
    }

    [Benchmark(Description = "bare inference, 16 pre-decoded images")]
    public int Infer()
    {
        using ImageTowerOutput output = _encoder.Tower.Run(_batch, Images);
        return output.Views;
    }

    [Benchmark(Description = "full path, 16 images (decode → infer → aggregate)")]
    public async Task<int> EncodeBatch()
    {
        int encoded = 0;
        await foreach (EncodeResult result in _encoder.EncodeManyAsync(_encoded.Select((bytes, i) => ImageSource.FromBytes($"img-{i}", bytes))))
        {
            if (result.Succeeded) encoded++;
        }

        return encoded;
    }
}
