using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// A covering aggregation that survives noise. Patches are first smoothed by their agreeing neighbours
/// (<see cref="SpatialSupport"/>), so a region's noise averages away while a lone patch stays itself. k-means
/// over the smoothed patches summarises the regions; a raw patch whose misfit to every region centroid stands out
/// from the image's own misfit distribution (median + z·MAD) is evidence of something the regions miss.
/// Covering slots go to such evidence farthest-first, up to a share of K; slots without evidence go back to
/// k-means, so a plain or very noisy image spends its budget on regions. Each covering vector is the trimmed
/// mean of the evidence patches it gathers, so a small object is denoised and a lone patch stays exact.
/// </summary>
public sealed class CoverAggregator : IAggregator
{
    private readonly AggregationOptions _options;

    public CoverAggregator(AggregationOptions options)
    {
        options.Validate();
        _options = options;
    }

    public string Name => "cover";

    public AggregatedImage Aggregate(string imageId, DenseEmbeddings normalizedPatches)
    {
        int p = normalizedPatches.PatchCount;
        int d = normalizedPatches.Dimension;
        int k = _options.Clusters;
        ReadOnlySpan<float> patches = normalizedPatches.Patches;
        if (k >= p) return new SphericalKMeans(_options).Aggregate(imageId, normalizedPatches);

        float[] smoothed = SpatialSupport.Smooth(normalizedPatches);
        var smooth = new DenseEmbeddings(smoothed, p, d, normalizedPatches.Global, normalizedPatches.GridWidth, normalizedPatches.GridHeight, normalizedPatches.RawNorms);
        int maxCover = (int)Math.Floor(k * _options.CoverMaxShare);
        AggregatedImage regions = Regions(imageId, smooth, k - maxCover);
        if (maxCover == 0) return PatchAssignment.Finish(patches, p, d, regions.Vectors[..(regions.Count * d)], regions.Count);

        // Evidence is judged on the raw patches, whose noise is alike everywhere: on smoothed ones a patch that merely
        // failed to find agreeing neighbours would look as odd as an object. Coverage is judged on the smoothed ones.
        float[] rawMisfit = new float[p];
        float[] smoothMisfit = new float[p];
        for (int i = 0; i < p; i++)
        {
            rawMisfit[i] = 1f - BestCosine(patches.Slice(i * d, d), regions.Vectors, regions.Count, d);
            smoothMisfit[i] = 1f - BestCosine(smoothed.AsSpan(i * d, d), regions.Vectors, regions.Count, d);
        }

        float rawThreshold = EvidenceThreshold(rawMisfit, _options.CoverEvidenceDeviations);
        float coveredThreshold = EvidenceThreshold(smoothMisfit, _options.CoverEvidenceDeviations);
        bool[]? eligible = PatchAssignment.Eligible(normalizedPatches, _options);
        bool[] evidence = new bool[p];
        for (int i = 0; i < p; i++) evidence[i] = rawMisfit[i] > rawThreshold && (eligible is null || eligible[i]);

        List<int> seeds = SelectEvidence(smoothed, p, d, regions, evidence, maxCover, coveredThreshold);
        if (seeds.Count < maxCover) regions = Regions(imageId, smooth, k - seeds.Count);

        int total = regions.Count + seeds.Count;
        float[] vectors = new float[total * d];
        regions.Vectors.AsSpan(0, regions.Count * d).CopyTo(vectors);
        for (int s = 0; s < seeds.Count; s++) smoothed.AsSpan(seeds[s] * d, d).CopyTo(vectors.AsSpan((regions.Count + s) * d, d));
        RefineCovering(patches, smoothed, p, d, vectors, total, regions.Count, evidence, seeds, _options.RefineThreshold);
        if (eligible is not null) (vectors, total) = WithoutIneligibleOnly(patches, p, d, vectors, total, eligible);
        return PatchAssignment.Finish(patches, p, d, vectors, total);
    }

    /// <summary>
    /// The outlier guard: drops vectors that only excluded patches (artefact tokens) are nearest to, such as a k-means
    /// cluster re-seeded with one; every vector must stand for some eligible patch.
    /// </summary>
    private static (float[] Vectors, int Count) WithoutIneligibleOnly(ReadOnlySpan<float> patches, int p, int d, float[] vectors, int k, bool[] eligible)
    {
        byte[] assignment = new byte[p];
        float[] similarity = new float[p];
        PatchAssignment.Assign(patches, p, d, vectors, k, assignment, similarity);
        bool[] used = new bool[k];
        for (int i = 0; i < p; i++) used[assignment[i]] |= eligible[i];
        if (used.All(u => u)) return (vectors, k);
        float[] kept = new float[used.Count(u => u) * d];
        int next = 0;
        for (int c = 0; c < k; c++)
        {
            if (used[c]) vectors.AsSpan(c * d, d).CopyTo(kept.AsSpan(next++ * d, d));
        }

        return (kept, next);
    }

    private AggregatedImage Regions(string imageId, DenseEmbeddings smooth, int clusters) =>
        new SphericalKMeans(_options with { Clusters = Math.Max(1, clusters) }).Aggregate(imageId, smooth);

    private static float BestCosine(ReadOnlySpan<float> patch, float[] vectors, int count, int d)
    {
        float best = float.NegativeInfinity;
        for (int c = 0; c < count; c++) best = MathF.Max(best, TensorPrimitives.Dot(patch, vectors.AsSpan(c * d, d)));
        return best;
    }

    /// <summary>median + z × 1.4826 × MAD of the misfits: what noise alone gives, plus z robust deviations.</summary>
    private static float EvidenceThreshold(float[] misfit, double deviations)
    {
        float median = SpatialSupport.Median((float[])misfit.Clone());
        float[] spread = misfit.Select(m => MathF.Abs(m - median)).ToArray();
        float mad = SpatialSupport.Median(spread);
        return median + (float)(deviations * 1.4826 * Math.Max(mad, 1e-4f));
    }

    /// <summary>
    /// Farthest-first among evidence patches, measured against the region centroids and the picks so far; stops when
    /// the farthest remaining evidence is no farther than the noise level, i.e. already covered.
    /// </summary>
    private static List<int> SelectEvidence(float[] smoothed, int p, int d, AggregatedImage regions, bool[] evidence, int wanted, float threshold)
    {
        var seeds = new List<int>(wanted);
        float[] distance = new float[p];
        for (int i = 0; i < p; i++)
        {
            distance[i] = evidence[i] ? PatchAssignment.CosineDistance(BestCosine(smoothed.AsSpan(i * d, d), regions.Vectors, regions.Count, d)) : 0f;
        }

        while (seeds.Count < wanted)
        {
            int next = -1;
            float farthest = threshold;
            for (int i = 0; i < p; i++)
            {
                if (distance[i] > farthest)
                {
                    farthest = distance[i];
                    next = i;
                }
            }

            if (next < 0) break;
            seeds.Add(next);
            ReadOnlySpan<float> seed = smoothed.AsSpan(next * d, d);
            for (int i = 0; i < p; i++)
            {
                if (distance[i] > 0) distance[i] = MathF.Min(distance[i], PatchAssignment.CosineDistance(TensorPrimitives.Dot(smoothed.AsSpan(i * d, d), seed)));
            }
        }

        return seeds;
    }

    /// <summary>
    /// Each covering vector becomes the mean of the raw evidence patches nearest to it (by smoothed vectors) whose smoothed
    /// cosine to its seed is at least <paramref name="threshold"/> (a trimmed mean: unrelated evidence that merely lies
    /// nearest does not dilute it). The seed always qualifies.
    /// </summary>
    private static void RefineCovering(
        ReadOnlySpan<float> patches, float[] smoothed, int p, int d, float[] vectors, int k, int from, bool[] evidence, List<int> seeds, float? threshold)
    {
        byte[] assignment = new byte[p];
        float[] similarity = new float[p];
        PatchAssignment.Assign(smoothed, p, d, vectors, k, assignment, similarity);
        float[] sums = new float[(k - from) * d];
        for (int i = 0; i < p; i++)
        {
            if (!evidence[i] || assignment[i] < from) continue;
            int s = assignment[i] - from;
            bool member = i == seeds[s] || threshold is not { } t || TensorPrimitives.Dot(smoothed.AsSpan(i * d, d), smoothed.AsSpan(seeds[s] * d, d)) >= t;
            if (!member) continue;
            Span<float> sum = sums.AsSpan(s * d, d);
            TensorPrimitives.Add(sum, patches.Slice(i * d, d), sum);
        }

        for (int c = from; c < k; c++)
        {
            Span<float> sum = sums.AsSpan((c - from) * d, d);
            if (VectorMath.Norm(sum) <= VectorMath.ZeroNormThreshold) continue;
            VectorMath.Normalize(sum);
            sum.CopyTo(vectors.AsSpan(c * d, d));
        }
    }
}
