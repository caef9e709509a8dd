using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index.Compressed;

public sealed partial class CompressedMultiVectorIndex
{
    /// <summary>Top <paramref name="k"/> live images by max exact score over their vectors, best first.</summary>
    public CompressedSearchResult Search(ReadOnlySpan<float> query, int k, CompressedSearchSettings? settings = null)
    {
        settings ??= CompressedSearchSettings.Default;
        settings.Validate();
        IndexGuards.Query(query, Dimension, k);
        Scratch s = Scratch.For(this, settings);
        PreparedQuery prepared = s.Query;
        Model.RerankCodec.PrepareQuery(query, prepared);

        int nprobe = Math.Min(settings.NProbe, _lists.Length);
        Span<int> probed = s.Probed.AsSpan(0, nprobe);
        Model.Lists.Probe(prepared, probed, s.CoarseScores);

        ProductQuantizer pq = Model.Quantizer;
        Span<float> table = s.Table;
        pq.ComputeInnerProductTable(query, table);
        CandidateHeap heap = s.Heap;
        heap.Reset(settings.RerankDepth);
        long scanned = 0;
        if (pq.Bits == 4)
        {
            (float scale, float bias) = PqFastScan.QuantizeTable(table, s.QuantizedTable);
            foreach (int l in probed)
            {
                HotList list = _lists[l];
                if (list.Count == 0) continue;
                scanned += list.Count;
                ScanFastScan(list, CentroidScore(query, l) + bias, scale, s, heap);
            }
        }
        else
        {
            foreach (int l in probed)
            {
                HotList list = _lists[l];
                scanned += list.Count;
                float centroid = CentroidScore(query, l);
                int m = pq.SubQuantizers;
                for (int i = 0; i < list.Count; i++)
                {
                    float score = centroid + PqVectorCodec.Adc(list.Codes.AsSpan(i * m, m), table);
                    if (!heap.Full || score > heap.Min) heap.Offer(score, list.Rows[i]);
                }
            }
        }

        return Rerank(heap, prepared, k, s, scanned);
    }

    private void ScanFastScan(HotList list, float offset, float scale, Scratch s, CandidateHeap heap)
    {
        int count = list.Count;
        Span<ushort> scores = s.FastScores(PqFastScan.BlockCount(count) * PqFastScan.BlockVectors);
        PqFastScan.Score(s.QuantizedTable, list.Codes, PqFastScan.BlockCount(count), Model.Quantizer.SubQuantizers, scores);
        float inverse = 1f / scale;
        int i = 0;
        for (; i < count && !heap.Full; i++) heap.Offer(offset + scores[i] * inverse, list.Rows[i]);
        if (i == count) return;

        // Integer test first: a code enters only when its sum beats the heap's minimum, converted to sum units.
        int threshold = Threshold(heap.Min, offset, scale);
        for (; i + Vector256<ushort>.Count <= count; i += Vector256<ushort>.Count)
        {
            if (threshold >= ushort.MaxValue) return;
            var sums = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(scores), (nuint)i);
            uint mask = Vector256.GreaterThanOrEqual(sums, Vector256.Create((ushort)Math.Max(threshold + 1, 0))).ExtractMostSignificantBits();
            while (mask != 0)
            {
                int j = i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                float score = offset + scores[j] * inverse;
                if (score > heap.Min)
                {
                    heap.Offer(score, list.Rows[j]);
                    threshold = Threshold(heap.Min, offset, scale);
                }
            }
        }

        for (; i < count; i++)
        {
            float score = offset + scores[i] * inverse;
            if (score > heap.Min) heap.Offer(score, list.Rows[i]);
        }
    }

    private static int Threshold(float min, float offset, float scale)
    {
        float units = (min - offset) * scale;
        return units >= ushort.MaxValue ? ushort.MaxValue : (int)MathF.Floor(units);
    }

    // Records are scored this many candidates after their prefetch is issued.
    private const int PrefetchDistance = 8;

    private CompressedSearchResult Rerank(CandidateHeap heap, PreparedQuery prepared, int k, Scratch s, long scanned)
    {
        ReadOnlySpan<int> candidates = heap.Rows;
        for (int i = 0; i < Math.Min(PrefetchDistance, candidates.Length); i++) _rerank.Prefetch(candidates[i]);

        // The k best images so far, each with its best exact score: a short array scanned linearly (k is small).
        Span<int> images = s.TopImages(k);
        Span<float> scores = s.TopScores(k);
        Span<int> bestRows = s.TopRows(k);
        int held = 0, worst = 0, reranked = 0;
        for (int i = 0; i < candidates.Length; i++)
        {
            if (i + PrefetchDistance < candidates.Length) _rerank.Prefetch(candidates[i + PrefetchDistance]);
            int row = candidates[i];
            int image = ImageOf(row);
            if (_deleted[image]) continue;
            float score = _rerank.Score(row, prepared);
            reranked++;
            if (held == k && !Better(score, image, scores[worst], images[worst])) continue;
            int at = images[..held].IndexOf(image);
            if (at >= 0)
            {
                if (!Better(score, image, scores[at], image)) continue;
            }
            else
            {
                at = held < k ? held++ : worst;
                images[at] = image;
            }

            scores[at] = score;
            bestRows[at] = row;
            if (held == k) worst = Worst(scores, images);
        }

        var hits = new ImageHit[held];
        for (int i = 0; i < held; i++) hits[i] = new ImageHit(images[i], scores[i], bestRows[i] - _firstRows[images[i]]);
        Array.Sort(hits, static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Image.CompareTo(y.Image));
        return new CompressedSearchResult(hits, scanned, reranked, reranked * _rerank.RecordBytes);
    }

    // Higher score first; equal scores: lower image number first (deterministic).
    private static bool Better(float score, int image, float otherScore, int otherImage) =>
        score > otherScore || (score == otherScore && image < otherImage);

    private static int Worst(ReadOnlySpan<float> scores, ReadOnlySpan<int> images)
    {
        int worst = 0;
        for (int i = 1; i < scores.Length; i++)
        {
            if (Better(scores[worst], images[worst], scores[i], images[i])) worst = i;
        }

        return worst;
    }

    /// <summary>Per-thread buffers, so concurrent searches share nothing and allocate little.</summary>
    private sealed class Scratch
    {
        [ThreadStatic]
        private static Scratch? s_current;

        private ushort[] _fastScores = [];

        private Scratch(IndexModel model, int depth)
        {
            Model = model;
            Query = new PreparedQuery(model.Dimension);
            Probed = new int[model.ListCount];
            CoarseScores = new float[model.ListCount];
            Table = new float[model.Quantizer.TableLength];
            QuantizedTable = new byte[model.Quantizer.TableLength];
            Heap = new CandidateHeap(depth);
            Depth = depth;
        }

        public int Depth { get; }

        private int[] _topImages = [], _topRows = [];
        private float[] _topScores = [];

        public Span<int> TopImages(int k) => Grow(ref _topImages, k);

        public Span<int> TopRows(int k) => Grow(ref _topRows, k);

        public Span<float> TopScores(int k) => Grow(ref _topScores, k);

        private static Span<T> Grow<T>(ref T[] buffer, int count)
        {
            if (buffer.Length < count) buffer = new T[count];
            return buffer.AsSpan(0, count);
        }

        public IndexModel Model { get; }

        public PreparedQuery Query { get; }

        public int[] Probed { get; }

        public float[] CoarseScores { get; }

        public float[] Table { get; }

        public byte[] QuantizedTable { get; }

        public CandidateHeap Heap { get; }

        public static Scratch For(CompressedMultiVectorIndex index, CompressedSearchSettings settings)
        {
            Scratch? scratch = s_current;
            if (scratch is null || scratch.Model != index.Model || scratch.Depth < settings.RerankDepth)
            {
                scratch = new Scratch(index.Model, settings.RerankDepth);
                s_current = scratch;
            }

            return scratch;
        }

        public Span<ushort> FastScores(int count)
        {
            if (_fastScores.Length < count) _fastScores = new ushort[Math.Max(count, _fastScores.Length * 2)];
            return _fastScores.AsSpan(0, count);
        }
    }

    /// <summary>The best candidate rows by approximate score: a bounded min-heap.</summary>
    private sealed class CandidateHeap(int capacity)
    {
        private readonly float[] _scores = new float[capacity];
        private readonly int[] _rows = new int[capacity];
        private int _capacity = capacity;

        public int Count { get; private set; }

        public bool Full => Count == _capacity;

        public float Min => Count == 0 ? float.NegativeInfinity : _scores[0];

        public ReadOnlySpan<int> Rows => _rows.AsSpan(0, Count);

        public void Reset(int depth)
        {
            _capacity = Math.Min(depth, _scores.Length);
            Count = 0;
        }

        public void Offer(float score, int row)
        {
            if (Count < _capacity)
            {
                int i = Count++;
                while (i > 0)
                {
                    int parent = (i - 1) >> 1;
                    if (_scores[parent] <= score) break;
                    _scores[i] = _scores[parent];
                    _rows[i] = _rows[parent];
                    i = parent;
                }

                _scores[i] = score;
                _rows[i] = row;
                return;
            }

            if (score <= _scores[0]) return;
            int at = 0;
            while (true)
            {
                int left = 2 * at + 1;
                if (left >= Count) break;
                int child = left + 1 < Count && _scores[left + 1] < _scores[left] ? left + 1 : left;
                if (_scores[child] >= score) break;
                _scores[at] = _scores[child];
                _rows[at] = _rows[child];
                at = child;
            }

            _scores[at] = score;
            _rows[at] = row;
        }
    }
}
