using System.Diagnostics;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Embeddings;
using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Core.Evaluation;

/// <summary>The table an evaluation prints: one row per scoring mode, how long aggregation took and the mean aggregated vectors per image.</summary>
public sealed record EvaluationReport(
    int Images,
    string Aggregation,
    int Clusters,
    double AggregationMillisecondsPerImage,
    IReadOnlyList<ModeScore> Modes,
    double VectorsPerImage = double.NaN);

/// <summary>
/// Evaluates image representations in each scoring mode through the core index, whatever produced
/// them: dense features read from files, synthetic ones, or images run through the encoders.
/// </summary>
public static class RepresentationEvaluation
{
    /// <summary>Aggregates every image of a dense-feature set (in parallel); returns the representations and the mean single-core time per image.</summary>
    public static (ImageRepresentation[] Representations, double MillisecondsPerImage) Aggregate(
        DenseFeatureSet set, IAggregator aggregator, bool keepDensePatches, IProgress<int>? progress = null) =>
        Aggregate(set.ImageCount, i => (RetrievalEvaluator.ImageKey(set.ImageIds[i]), set.Image(i).Normalized()), aggregator, keepDensePatches, progress);

    /// <summary>
    /// Aggregates <paramref name="count"/> images given as (id, normalised patches), in parallel; returns the
    /// representations and the mean single-core aggregation time per image.
    /// </summary>
    public static (ImageRepresentation[] Representations, double MillisecondsPerImage) Aggregate(
        int count, Func<int, (string ImageId, DenseEmbeddings Normalized)> image, IAggregator aggregator, bool keepDensePatches, IProgress<int>? progress = null)
    {
        var result = new ImageRepresentation[count];
        long ticks = 0;
        int done = 0;
        Parallel.For(0, count, i =>
        {
            var (id, normalized) = image(i);
            long start = Stopwatch.GetTimestamp();
            AggregatedImage aggregated = aggregator.Aggregate(id, normalized);
            Interlocked.Add(ref ticks, Stopwatch.GetTimestamp() - start);
            result[i] = ImageRepresentation.From(id, normalized, aggregated, keepDensePatches);
            progress?.Report(Interlocked.Increment(ref done));
        });

        return (result, ticks * 1000.0 / Stopwatch.Frequency / Math.Max(1, count));
    }

    /// <summary>Builds one index per mode from the representations and scores every query against it.</summary>
    public static IReadOnlyList<ModeScore> Evaluate<TIndex>(
        IReadOnlyList<ImageRepresentation> representations,
        CocoDataset dataset,
        IReadOnlyList<EvaluationQuery> queries,
        IReadOnlyList<ScoringMode> modes,
        int k,
        Func<int, TIndex> createIndex,
        bool clusterIncludesGlobal = false)
        where TIndex : IVectorIndexReader, IVectorIndexWriter
    {
        if (representations.Count == 0) throw new ArgumentException("Nothing to evaluate: no images.", nameof(representations));
        var evaluator = new RetrievalEvaluator(dataset, k);
        var scores = new List<ModeScore>();
        foreach (ScoringMode mode in modes)
        {
            TIndex index = createIndex(representations[0].Dimension);
            foreach (ImageRepresentation r in representations)
            {
                var (vectors, count) = ModeVectors.For(r, mode, clusterIncludesGlobal);
                index.Upsert(r.ImageId, vectors, count);
            }

            scores.Add(evaluator.Evaluate(mode.ToString().ToLowerInvariant(), index, queries));
        }

        return scores;
    }
}
