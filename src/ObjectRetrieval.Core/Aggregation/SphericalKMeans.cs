using System.Buffers;
using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// Spherical k-means (cosine) over one image's unit patch vectors: k-means++ seeding drawn from
/// the image id, Lloyd iterations with re-normalised centroids, empty clusters re-seeded with the
/// worst-fitting patch, early stop on convergence. Fewer than K centroids come back only when the
/// image has fewer distinct patches than K.
/// </summary>
public sealed class SphericalKMeans : IAggregator
{
    private readonly AggregationOptions _options;

    public SphericalKMeans(AggregationOptions? options = null)
    {
        _options = options ?? new AggregationOptions();
        _options.Validate();
    }

    public string Name => "kmeans";

    public AggregatedImage Aggregate(string imageId, DenseEmbeddings normalizedPatches)
    {
        int p = normalizedPatches.PatchCount;
        int d = normalizedPatches.Dimension;
        ReadOnlySpan<float> patches = normalizedPatches.Patches;
        var random = DeterministicRandom.ForImage(imageId, _options.Seed);

        float[] centroids = new float[Math.Min(_options.Clusters, p) * d];
        bool[]? eligible = PatchAssignment.Eligible(normalizedPatches, _options);
        int k = SeedPlusPlus(patches, p, d, Math.Min(_options.Clusters, p), random, centroids, eligible);

        byte[] assignment = new byte[p];
        float[] similarity = ArrayPool<float>.Shared.Rent(p);
        float[] sums = ArrayPool<float>.Shared.Rent(k * d);
        int[] sizes = new int[k];
        try
        {
            double previousObjective = double.NegativeInfinity;
            for (int iteration = 0; ; iteration++)
            {
                double objective = PatchAssignment.Assign(patches, p, d, centroids, k, assignment, similarity);
                bool converged = objective - previousObjective < _options.Tolerance * p;
                previousObjective = objective;
                if (converged || iteration >= _options.MaxIterations) break;

                Update(patches, p, d, centroids, k, assignment, similarity, sums, sizes);
            }

            Array.Clear(sizes);
            foreach (byte a in assignment) sizes[a]++;
            return new AggregatedImage(k * d == centroids.Length ? centroids : centroids[..(k * d)], k, d, sizes, assignment);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(similarity);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>k-means++ on cosine distance: each next seed drawn with probability ∝ (1 − best cosine)².</summary>
    private static int SeedPlusPlus(ReadOnlySpan<float> patches, int p, int d, int wanted, DeterministicRandom random, Span<float> centroids, bool[]? eligible)
    {
        float[] distance = ArrayPool<float>.Shared.Rent(p);
        try
        {
            int first = random.Next(p);
            while (eligible is not null && !eligible[first]) first = (first + 1) % p;
            patches.Slice(first * d, d).CopyTo(centroids);
            for (int i = 0; i < p; i++)
            {
                // A patch the outlier guard excludes can never be drawn: its weight is zero.
                distance[i] = eligible is null || eligible[i] ? PatchAssignment.CosineDistance(TensorPrimitives.Dot(patches.Slice(i * d, d), centroids[..d])) : 0f;
            }

            int k = 1;
            while (k < wanted)
            {
                double total = 0;
                for (int i = 0; i < p; i++) total += (double)distance[i] * distance[i];
                if (total <= 1e-12) break; // every patch already sits on a seed: no distinct patch left to pick

                double target = random.NextDouble() * total;
                int chosen = p - 1;
                for (int i = 0; i < p; i++)
                {
                    target -= (double)distance[i] * distance[i];
                    if (target < 0)
                    {
                        chosen = i;
                        break;
                    }
                }

                // Rounding can leave target ≥ 0 at the end; never pick a patch that is already a seed.
                while (distance[chosen] <= 0) chosen--;

                Span<float> seed = centroids.Slice(k * d, d);
                patches.Slice(chosen * d, d).CopyTo(seed);
                for (int i = 0; i < p; i++)
                {
                    float dist = PatchAssignment.CosineDistance(TensorPrimitives.Dot(patches.Slice(i * d, d), seed));
                    if (dist < distance[i]) distance[i] = dist;
                }

                k++;
            }

            return k;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(distance);
        }
    }

    /// <summary>Centroid = normalised sum of its members; an empty cluster takes the patch that fits its own centroid worst.</summary>
    private static void Update(ReadOnlySpan<float> patches, int p, int d, Span<float> centroids, int k, Span<byte> assignment, Span<float> similarity, Span<float> sums, Span<int> sizes)
    {
        sums[..(k * d)].Clear();
        sizes.Clear();
        for (int i = 0; i < p; i++)
        {
            int c = assignment[i];
            Span<float> sum = sums.Slice(c * d, d);
            TensorPrimitives.Add(sum, patches.Slice(i * d, d), sum);
            sizes[c]++;
        }

        for (int c = 0; c < k; c++)
        {
            if (sizes[c] == 0)
            {
                int worst = WorstFittingPatch(similarity, p, assignment, sizes);
                if (worst < 0) continue; // nothing can move without emptying another cluster
                int from = assignment[worst];
                TensorPrimitives.Subtract(sums.Slice(from * d, d), patches.Slice(worst * d, d), sums.Slice(from * d, d));
                sizes[from]--;
                patches.Slice(worst * d, d).CopyTo(sums.Slice(c * d, d));
                sizes[c] = 1;
                assignment[worst] = (byte)c;
                similarity[worst] = 1f;
            }
        }

        for (int c = 0; c < k; c++)
        {
            Span<float> centroid = centroids.Slice(c * d, d);
            Span<float> sum = sums.Slice(c * d, d);
            if (VectorMath.Norm(sum) > VectorMath.ZeroNormThreshold)
            {
                sum.CopyTo(centroid);
                VectorMath.Normalize(centroid);
            }

            // A sum of opposite vectors that cancels keeps the previous centroid rather than becoming zero.
        }
    }

    private static int WorstFittingPatch(ReadOnlySpan<float> similarity, int p, ReadOnlySpan<byte> assignment, ReadOnlySpan<int> sizes)
    {
        int worst = -1;
        float worstSim = float.PositiveInfinity;
        for (int i = 0; i < p; i++)
        {
            if (sizes[assignment[i]] > 1 && similarity[i] < worstSim)
            {
                worstSim = similarity[i];
                worst = i;
            }
        }

        return worst;
    }
}
