using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Embeddings;

/// <summary>Embedding arithmetic on row-major float matrices, vectorised through TensorPrimitives.</summary>
public static class VectorMath
{
    /// <summary>Norms below this are treated as zero vectors: normalising them would amplify noise.</summary>
    public const float ZeroNormThreshold = 1e-12f;

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    public static float Norm(ReadOnlySpan<float> v) => TensorPrimitives.Norm(v);

    /// <summary>Scales <paramref name="v"/> to unit length in place and returns its former norm (0 for a zero vector, which stays zero).</summary>
    public static float Normalize(Span<float> v)
    {
        float norm = TensorPrimitives.Norm(v);
        if (norm < ZeroNormThreshold)
        {
            v.Clear();
            return 0f;
        }

        TensorPrimitives.Multiply(v, 1f / norm, v);
        return norm;
    }

    /// <summary>Normalises each of the <paramref name="rows"/> rows of a row-major matrix; writes each row's former norm to <paramref name="norms"/> when given.</summary>
    public static void NormalizeRows(Span<float> matrix, int rows, int dim, Span<float> norms = default)
    {
        CheckShape(matrix.Length, rows, dim);
        for (int r = 0; r < rows; r++)
        {
            float n = Normalize(matrix.Slice(r * dim, dim));
            if (!norms.IsEmpty) norms[r] = n;
        }
    }

    /// <summary>scores[r] = dot(matrix row r, query) for every row: the batched scoring used by scans and k-means.</summary>
    public static void MatrixVector(ReadOnlySpan<float> matrix, int rows, int dim, ReadOnlySpan<float> query, Span<float> scores)
    {
        CheckShape(matrix.Length, rows, dim);
        if (query.Length != dim) throw new ArgumentException($"Query has {query.Length} dimensions, expected {dim}.", nameof(query));
        if (scores.Length < rows) throw new ArgumentException($"Score buffer holds {scores.Length}, need {rows}.", nameof(scores));
        for (int r = 0; r < rows; r++)
        {
            scores[r] = TensorPrimitives.Dot(matrix.Slice(r * dim, dim), query);
        }
    }

    /// <summary>result[a, b] = dot(left row a, right row b); result is row-major leftRows × rightRows.</summary>
    public static void MatrixMatrixTransposed(ReadOnlySpan<float> left, int leftRows, ReadOnlySpan<float> right, int rightRows, int dim, Span<float> result)
    {
        CheckShape(left.Length, leftRows, dim);
        CheckShape(right.Length, rightRows, dim);
        if (result.Length < leftRows * rightRows) throw new ArgumentException("Result buffer too small.", nameof(result));
        for (int a = 0; a < leftRows; a++)
        {
            ReadOnlySpan<float> row = left.Slice(a * dim, dim);
            Span<float> outRow = result.Slice(a * rightRows, rightRows);
            for (int b = 0; b < rightRows; b++)
            {
                outRow[b] = TensorPrimitives.Dot(row, right.Slice(b * dim, dim));
            }
        }
    }

    /// <summary>Throws <see cref="InvalidEmbeddingException"/> naming the first NaN or infinite value.</summary>
    public static void EnsureFinite(ReadOnlySpan<float> values, string what)
    {
        // NaN and infinities propagate into the sum: one vectorised pass in the common case.
        if (float.IsFinite(TensorPrimitives.Sum(values))) return;

        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InvalidEmbeddingException($"{what} holds a non-finite value ({values[i]}) at element {i}.");
            }
        }
    }

    private static void CheckShape(int length, int rows, int dim)
    {
        if (rows < 0 || dim <= 0 || length < rows * dim)
        {
            throw new ArgumentException($"Matrix of {length} values cannot hold {rows} rows of {dim} dimensions.");
        }
    }
}

/// <summary>An embedding that cannot be used: wrong shape, NaN or infinite values.</summary>
public sealed class InvalidEmbeddingException(string message) : Exception(message);
