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

    private CompressedSearchResult Rerank(CandidateHeap heap, PreparedQuery prepared, int k, Scratch s, long scanned)
    {
        int n = 0;
        Span<float> keys = s.RerankKeys;
        Span<int> rows = s.RerankRows;
        ReadOnlySpan<int> candidates = heap.Rows;
        foreach (int row in candidates)
        {
            if (_deleted[ImageOf(row)]) continue;
            // Negated: the sort below is ascending.
            keys[n] = -_rerank.Score(row, prepared);
            rows[n] = row;
            n++;
        }

        keys[..n].Sort(rows[..n]);
        var hits = new List<ImageHit>(k);
        for (int i = 0; i < n && hits.Count < k; i++)
        {
            int image = ImageOf(rows[i]);
            bool seen = false;
            foreach (ImageHit hit in hits) seen |= hit.Image == image;
            if (!seen) hits.Add(new ImageHit(image, -keys[i], rows[i] - _firstRows[image]));
        }

        return new CompressedSearchResult([.. hits], scanned, n, n * _rerank.RecordBytes);
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
            RerankKeys = new float[depth];
            RerankRows = new int[depth];
        }

        public IndexModel Model { get; }

        public PreparedQuery Query { get; }

        public int[] Probed { get; }

        public float[] CoarseScores { get; }

        public float[] Table { get; }

        public byte[] QuantizedTable { get; }

        public CandidateHeap Heap { get; }

        public float[] RerankKeys { get; }

        public int[] RerankRows { get; }

        public static Scratch For(CompressedMultiVectorIndex index, CompressedSearchSettings settings)
        {
            Scratch? scratch = s_current;
            if (scratch is null || scratch.Model != index.Model || scratch.RerankKeys.Length < settings.RerankDepth)
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
