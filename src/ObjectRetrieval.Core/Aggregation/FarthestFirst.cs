using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// Greedy farthest-first traversal (the 2-approximation of k-center): repeatedly keep the patch farthest
/// from everything kept so far. Covering the patch set is what a max-score needs: every region,
/// however small, ends up close to some kept vector.
/// </summary>
internal static class FarthestFirst
{
    /// <summary>
    /// Appends up to <paramref name="wanted"/> selected patches after the <paramref name="existing"/> vectors
    /// already in <paramref name="vectors"/> (which must have room); returns the indices of the selected patches.
    /// With no existing vectors, the first pick is <paramref name="firstPatch"/>.
    /// </summary>
    public static List<int> Select(ReadOnlySpan<float> patches, int p, int d, Span<float> vectors, int existing, int wanted, int firstPatch, bool[]? eligible)
    {
        var selected = new List<int>(wanted);
        float[] distance = new float[p];
        distance.AsSpan().Fill(float.PositiveInfinity);
        for (int c = 0; c < existing; c++) Tighten(patches, p, d, vectors.Slice(c * d, d), distance);

        while (selected.Count < wanted)
        {
            int next;
            if (existing == 0 && selected.Count == 0)
            {
                next = firstPatch;
            }
            else
            {
                next = -1;
                float farthest = 0f;
                for (int i = 0; i < p; i++)
                {
                    if ((eligible is null || eligible[i]) && distance[i] > farthest)
                    {
                        farthest = distance[i];
                        next = i;
                    }
                }

                if (next < 0) break; // every eligible patch coincides with a kept vector
            }

            Span<float> slot = vectors.Slice((existing + selected.Count) * d, d);
            patches.Slice(next * d, d).CopyTo(slot);
            selected.Add(next);
            Tighten(patches, p, d, slot, distance);
        }

        return selected;
    }

    /// <summary>
    /// Moves each selected vector (rows <paramref name="from"/>.. of <paramref name="vectors"/>) to the normalised mean
    /// of the patches assigned to it whose cosine to its seed patch is at least <paramref name="threshold"/>.
    /// The seed itself always qualifies, so a lone patch stays exactly itself.
    /// </summary>
    public static void Refine(ReadOnlySpan<float> patches, int p, int d, Span<float> vectors, int k, int from, List<int> seeds, float threshold)
    {
        byte[] assignment = new byte[p];
        float[] similarity = new float[p];
        PatchAssignment.Assign(patches, p, d, vectors, k, assignment, similarity);
        float[] sum = new float[d];
        for (int s = 0; s < seeds.Count; s++)
        {
            int c = from + s;
            ReadOnlySpan<float> seed = patches.Slice(seeds[s] * d, d);
            Array.Clear(sum);
            for (int i = 0; i < p; i++)
            {
                ReadOnlySpan<float> patch = patches.Slice(i * d, d);
                if (assignment[i] == c && TensorPrimitives.Dot(patch, seed) >= threshold) TensorPrimitives.Add(sum, patch, sum);
            }

            if (VectorMath.Norm(sum) > VectorMath.ZeroNormThreshold)
            {
                VectorMath.Normalize(sum);
                sum.CopyTo(vectors.Slice(c * d, d));
            }
        }
    }

    private static void Tighten(ReadOnlySpan<float> patches, int p, int d, ReadOnlySpan<float> vector, Span<float> distance)
    {
        for (int i = 0; i < p; i++)
        {
            float dist = PatchAssignment.CosineDistance(TensorPrimitives.Dot(patches.Slice(i * d, d), vector));
            if (dist < distance[i]) distance[i] = dist;
        }
    }
}
