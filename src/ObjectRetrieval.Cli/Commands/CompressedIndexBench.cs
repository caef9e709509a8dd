using System.Diagnostics;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Compressed;
using ObjectRetrieval.Core.IO;

namespace ObjectRetrieval.Cli.Commands;

/// <summary>The product-quantised codecs of <c>objret bench index</c>: train a model, build the compressed index, measure each nprobe × re-rank depth.</summary>
internal static class CompressedIndexBench
{
    private const int WarmupQueries = 20;
    private const int DefaultLists = 1024;
    private const int ImagesPerEncodeBatch = 4096;

    public static List<BenchIndexCommand.BenchRow> Run(BenchIndexCommand.Settings s, ref VectorSet<float>? baseSet, VectorSet<float> queries, int[] truth, int truthColumns, CancellationToken ct)
    {
        VectorSet<float> data = baseSet!;
        int dim = data.Dimension, perImage = s.VectorsPerImage, rows = data.Count, images = rows / perImage;
        (int m, int bits) = s.Product!.Value;
        var options = new IndexModelOptions
        {
            ListCount = s.IvfLists > 0 ? s.IvfLists : DefaultLists, SubQuantizers = m, Bits = bits, Seed = s.Seed,
            IvfTrainingVectors = s.TrainSample, RefinementPasses = s.Refine,
        };

        string directory = s.WorkDir ?? Path.GetDirectoryName(s.BasePath) ?? ".";
        Directory.CreateDirectory(directory);
        string stem = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(s.BasePath)}.{s.CodecName}.ivf{options.ListCount}");
        string modelPath = s.ModelPath ?? stem + ".model";
        var clock = Stopwatch.StartNew();
        IndexModel model;
        double trainSeconds = 0;
        if (s.ModelPath is not null && File.Exists(modelPath))
        {
            model = IndexModel.Load(modelPath);
            if (model.Dimension != dim || model.Quantizer.SubQuantizers != m || model.Quantizer.Bits != bits)
            {
                throw new InvalidDataException($"{modelPath}: a model of dimension {model.Dimension}, PQ{model.Quantizer.SubQuantizers}×{model.Quantizer.Bits} bits does not match --codec {s.CodecName} on {dim} dimensions.");
            }

            Console.WriteLine($"model loaded from {modelPath}: IVF{model.ListCount}, PQ{m}×{bits} bits (fingerprint {model.Fingerprint:x8}); its training time is not in this run");
            if (s.Refine > 0)
            {
                clock.Restart();
                model = model.Refine(data.Data, rows, s.Refine, options);
                trainSeconds = clock.Elapsed.TotalSeconds;
                Console.WriteLine($"refined over all {rows} vectors ({s.Refine} pass(es)) and codebooks retrained in {trainSeconds:F1} s (fingerprint {model.Fingerprint:x8})");
            }
        }
        else
        {
            model = IndexModel.Train(data.Data, rows, dim, options);
            trainSeconds = clock.Elapsed.TotalSeconds;
            model.Save(modelPath);
            Console.WriteLine($"model trained (k-means on {Math.Min(rows, s.TrainSample)} vectors, {s.Refine} refinement pass(es) over all) in {trainSeconds:F1} s: IVF{model.ListCount}, PQ{m}×{bits} bits (fingerprint {model.Fingerprint:x8}), saved to {modelPath}");
        }

        clock.Restart();
        CompressedMultiVectorIndex index;
        using (var writer = new CompressedIndexWriter(model, stem + ".rerank"))
        {
            for (int first = 0; first < images; first += ImagesPerEncodeBatch)
            {
                ct.ThrowIfCancellationRequested();
                int n = Math.Min(ImagesPerEncodeBatch, images - first);
                EncodedVectors batch = model.EncodeParallel(data.Data.AsMemory(first * perImage * dim, n * perImage * dim), n * perImage);
                for (int i = 0; i < n; i++) writer.Add(batch.Slice(i * perImage, perImage));
            }

            index = writer.Complete();
        }

        double buildSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"encoded and added {images} images in {buildSeconds:F1} s; resident {index.ResidentBytes / 1e6:F1} MB (lists {index.ListBytes / 1e6:F1} MB), re-rank file {index.RerankFileBytes / 1e6:F0} MB");

        // The float copy is no longer needed: release it before timing.
        baseSet = null;
        data = null!;
        GC.Collect();
        index.WarmUpRerankFile();

        var results = new List<BenchIndexCommand.BenchRow>();
        using (index)
        {
            double diskPerImage = (index.RerankFileBytes + index.VectorCount * (model.ProductCodeBytes + sizeof(int))) / (double)images;
            foreach (int nprobe in s.NProbes)
            {
                foreach (int depth in s.RerankDepths)
                {
                    var settings = new CompressedSearchSettings(nprobe, depth);
                    (double recall, double[] latencies, double rerankBytes, double codes, double wall) = Measure(index, queries, s, settings, truth, truthColumns, ct);
                    results.Add(new BenchIndexCommand.BenchRow(
                        $"IVF{model.ListCount}-{s.CodecName}", nprobe, queries.Count, recall, latencies.Average(),
                        BenchIndexCommand.Percentile(latencies, 0.50), BenchIndexCommand.Percentile(latencies, 0.99), queries.Count / wall,
                        buildSeconds, trainSeconds, model.ProductCodeBytes + sizeof(int), index.ResidentBytes / (double)index.VectorCount, 0,
                        depth, index.ResidentBytes / (double)images, diskPerImage, rerankBytes, codes));
                    Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  nprobe {nprobe,5} rerank {depth,5}: recall@{s.K} {recall:F4}, mean {latencies.Average():F3} ms"));
                }
            }
        }

        return results;
    }

    private static (double Recall, double[] SortedLatencies, double RerankBytes, double Codes, double WallSeconds) Measure(
        CompressedMultiVectorIndex index, VectorSet<float> queries, BenchIndexCommand.Settings s, CompressedSearchSettings settings, int[] truth, int truthColumns, CancellationToken ct)
    {
        int k = s.K, count = queries.Count;
        for (int q = 0; q < Math.Min(WarmupQueries, count); q++) index.Search(queries.Row(q), k, settings);
        double[] latencies = new double[count];
        long[] rerankBytes = new long[count];
        long[] codes = new long[count];
        int[] found = new int[count * k];
        found.AsSpan().Fill(-1);
        long start = Stopwatch.GetTimestamp();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = s.Threads, CancellationToken = ct }, q =>
        {
            long t0 = Stopwatch.GetTimestamp();
            CompressedSearchResult result = index.Search(queries.Row(q), k, settings);
            latencies[q] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            rerankBytes[q] = result.RerankBytesRead;
            codes[q] = result.CodesScanned;
            for (int i = 0; i < result.Hits.Length; i++) found[q * k + i] = result.Hits[i].Image;
        });
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        return (ExactNeighbours.Recall(truth, truthColumns, found, k, count, k), latencies, rerankBytes.Average(), codes.Average(), wall);
    }
}
