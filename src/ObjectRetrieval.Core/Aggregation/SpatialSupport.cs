using System.Numerics.Tensors;
using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Aggregation;

/// <summary>
/// Denoises patches by the neighbours that agree with them: each patch of the grid becomes the normalised sum of
/// itself and those of its 8 neighbours weighted by how far their cosine to it clears an agreement level measured on the image itself
/// (midway between the typical neighbour cosine, mostly same-region pairs, and the typical cosine of distant
/// pairs, mostly different regions). A patch no neighbour agrees with — a one-patch object — stays itself.
/// Patches beyond the first grid (extra tiles) are kept as they are.
/// </summary>
internal static class SpatialSupport
{
    public static float[] Smooth(DenseEmbeddings patches)
    {
        int p = patches.PatchCount;
        int d = patches.Dimension;
        int w = patches.GridWidth;
        int h = patches.GridHeight;
        ReadOnlySpan<float> x = patches.Patches;
        float[] smoothed = (float[])patches.Patches.Clone();
        if (w * h < 4) return smoothed;

        int grid = w * h;
        float[] neighbourCosine = new float[grid * 8];
        neighbourCosine.AsSpan().Fill(float.NaN);
        var sameish = new List<float>(grid * 8);
        for (int i = 0; i < grid; i++)
        {
            int cx = i % w, cy = i / w;
            int slot = 0;
            for (int dy = -1; dy <= 1; dy++)
            {
                for (int dx = -1; dx <= 1; dx++)
                {
                    if (dx == 0 && dy == 0) continue;
                    int nx = cx + dx, ny = cy + dy;
                    if (nx >= 0 && nx < w && ny >= 0 && ny < h)
                    {
                        float c = TensorPrimitives.Dot(x.Slice(i * d, d), x.Slice((ny * w + nx) * d, d));
                        neighbourCosine[i * 8 + slot] = c;
                        sameish.Add(c);
                    }

                    slot++;
                }
            }
        }

        float[] distant = new float[grid];
        for (int i = 0; i < grid; i++) distant[i] = TensorPrimitives.Dot(x.Slice(i * d, d), x.Slice((i + grid / 2) % grid * d, d));
        float typical = Median(sameish.ToArray());
        float agreement = (typical + Median(distant)) / 2;
        float span = MathF.Max(typical - agreement, 1e-4f);

        for (int i = 0; i < grid; i++)
        {
            int cx = i % w, cy = i / w;
            Span<float> target = smoothed.AsSpan(i * d, d);
            int slot = 0;
            for (int dy = -1; dy <= 1; dy++)
            {
                for (int dx = -1; dx <= 1; dx++)
                {
                    if (dx == 0 && dy == 0) continue;
                    float c = neighbourCosine[i * 8 + slot++];
                    // Soft support: a neighbour counts fully once it is as alike as a typical same-region pair.
                    if (c > agreement) TensorPrimitives.MultiplyAdd(x.Slice(((cy + dy) * w + cx + dx) * d, d), MathF.Min(1f, (c - agreement) / span), target, target);
                }
            }

            VectorMath.Normalize(target);
        }

        return smoothed;
    }

    /// <summary>Median of a scratch array (sorted in place).</summary>
    public static float Median(float[] values)
    {
        if (values.Length == 0) return 0f;
        Array.Sort(values);
        int m = values.Length / 2;
        return values.Length % 2 == 1 ? values[m] : (values[m - 1] + values[m]) / 2;
    }
}
