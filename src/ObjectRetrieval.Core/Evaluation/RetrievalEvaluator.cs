using ObjectRetrieval.Core.Index;

namespace ObjectRetrieval.Core.Evaluation;

/// <summary>One text query of an evaluation: a category and its embedded name.</summary>
public sealed record EvaluationQuery(long CategoryId, string Name, float[] Vector);

/// <summary>AP of one query, overall and on its small-object subset (NaN where the subset is empty).</summary>
public sealed record QueryScore(string Query, double AveragePrecision, double SmallAveragePrecision, int Relevant, int SmallRelevant);

/// <summary>mAP@k of one index over all queries.</summary>
public sealed record ModeScore(string Mode, int K, double MeanAveragePrecision, double SmallMeanAveragePrecision, int Queries, int SmallQueries, double IndexBytesPerImage, IReadOnlyList<QueryScore> PerQuery);

/// <summary>
/// Ranks every image of a COCO-format dataset for each category query and scores the rankings.
/// An image is relevant to a category when it holds an instance of it. On the small-object subset,
/// the relevant images are those whose instances of the category are all smaller than 32×32 px;
/// images that hold a larger instance of it are left out of that ranking (neither right nor wrong).
/// Index image ids are the COCO image ids in decimal.
/// </summary>
public sealed class RetrievalEvaluator
{
    private readonly Dictionary<long, HashSet<string>> _relevant = [];
    private readonly Dictionary<long, HashSet<string>> _smallRelevant = [];
    private readonly Dictionary<long, HashSet<string>> _largePresent = [];

    public RetrievalEvaluator(CocoDataset dataset, int k = 50)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        K = k;
        foreach (CocoCategory c in dataset.Categories)
        {
            _relevant[c.Id] = [];
            _smallRelevant[c.Id] = [];
            _largePresent[c.Id] = [];
        }

        foreach (CocoAnnotation a in dataset.Annotations)
        {
            string image = ImageKey(a.ImageId);
            _relevant[a.CategoryId].Add(image);
            if (a.Area >= CocoDataset.SmallAreaLimit) _largePresent[a.CategoryId].Add(image);
        }

        foreach (var (category, images) in _relevant)
        {
            _smallRelevant[category] = images.Where(i => !_largePresent[category].Contains(i)).ToHashSet();
        }
    }

    public int K { get; }

    public static string ImageKey(long cocoImageId) => cocoImageId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public ModeScore Evaluate(string mode, IVectorIndexReader index, IReadOnlyList<EvaluationQuery> queries)
    {
        var perQuery = new QueryScore[queries.Count];
        Parallel.For(0, queries.Count, q =>
        {
            EvaluationQuery query = queries[q];
            HashSet<string> excluded = _largePresent[query.CategoryId];
            // Deep enough that the top k survive removing the images excluded from the small subset.
            int depth = Math.Min(index.ImageCount, K + excluded.Count);
            List<string> ranking = index.Search(query.Vector, depth).Select(h => h.ImageId).ToList();
            double ap = RetrievalMetrics.AveragePrecisionAtK(ranking, _relevant[query.CategoryId], K);
            var smallRanking = ranking.Where(i => !excluded.Contains(i)).ToList();
            double smallAp = RetrievalMetrics.AveragePrecisionAtK(smallRanking, _smallRelevant[query.CategoryId], K);
            perQuery[q] = new QueryScore(query.Name, ap, smallAp, _relevant[query.CategoryId].Count, _smallRelevant[query.CategoryId].Count);
        });

        var scored = perQuery.Where(s => !double.IsNaN(s.AveragePrecision)).ToList();
        var smallScored = perQuery.Where(s => !double.IsNaN(s.SmallAveragePrecision)).ToList();
        return new ModeScore(
            mode,
            K,
            scored.Count == 0 ? double.NaN : scored.Average(s => s.AveragePrecision),
            smallScored.Count == 0 ? double.NaN : smallScored.Average(s => s.SmallAveragePrecision),
            scored.Count,
            smallScored.Count,
            index.ImageCount == 0 ? 0 : (double)index.MemoryBytes / index.ImageCount,
            perQuery);
    }
}
