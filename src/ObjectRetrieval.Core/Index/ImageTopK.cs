namespace ObjectRetrieval.Core.Index;

/// <summary>
/// The k best images seen so far, as a bounded min-heap keyed by each image's best score, so
/// an image that shows up again through another of its vectors raises its entry instead of
/// taking a second place. Equal scores order by image id (ordinal), which keeps results
/// deterministic. Reused across searches on one thread.
/// </summary>
internal sealed class ImageTopK
{
    private int[] _slots = new int[16];
    private float[] _scores = new float[16];
    private int[] _ordinals = new int[16];
    private int _k;
    private ImageTable _images = null!;

    public int Count { get; private set; }

    /// <summary>Scores below this cannot enter; equal scores may, by id order.</summary>
    public float Threshold { get; private set; }

    public void Reset(int k, ImageTable images)
    {
        if (_slots.Length < k)
        {
            _slots = new int[k];
            _scores = new float[k];
            _ordinals = new int[k];
        }

        _k = k;
        _images = images;
        Count = 0;
        Threshold = float.NegativeInfinity;
    }

    /// <summary>Offers an image that was not offered before in this search.</summary>
    public void OfferNew(int slot, float score, int ordinal)
    {
        if (score < Threshold) return;
        if (Count < _k)
        {
            Place(Count++, slot, score, ordinal);
            SiftUp(Count - 1);
        }
        else
        {
            if (!Better(score, slot, _scores[0], _slots[0])) return;
            Place(0, slot, score, ordinal);
            SiftDown(0);
        }

        if (Count == _k) Threshold = _scores[0];
    }

    /// <summary>Offers one vector's score for an image that may already hold a place.</summary>
    public void Offer(int slot, float score, int ordinal)
    {
        if (score < Threshold) return;
        for (int i = 0; i < Count; i++)
        {
            if (_slots[i] != slot) continue;
            if (score > _scores[i])
            {
                _scores[i] = score;
                _ordinals[i] = ordinal;
                SiftDown(i);
                if (Count == _k) Threshold = _scores[0];
            }

            return;
        }

        OfferNew(slot, score, ordinal);
    }

    /// <summary>The held images, best first.</summary>
    public SearchHit[] ToHits()
    {
        var hits = new SearchHit[Count];
        for (int i = 0; i < Count; i++)
        {
            hits[i] = new SearchHit(_images.Id(_slots[i]), _scores[i], _ordinals[i]);
        }

        Array.Sort(hits, SearchHitOrder.BestFirst);
        return hits;
    }

    private bool Better(float score, int slot, float otherScore, int otherSlot) =>
        score > otherScore || (score == otherScore && string.CompareOrdinal(_images.Id(slot), _images.Id(otherSlot)) < 0);

    private void Place(int i, int slot, float score, int ordinal)
    {
        _slots[i] = slot;
        _scores[i] = score;
        _ordinals[i] = ordinal;
    }

    private void Swap(int a, int b)
    {
        (_slots[a], _slots[b]) = (_slots[b], _slots[a]);
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_ordinals[a], _ordinals[b]) = (_ordinals[b], _ordinals[a]);
    }

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Better(_scores[parent], _slots[parent], _scores[i], _slots[i])) break;
            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            int left = 2 * i + 1;
            if (left >= Count) break;
            int worst = left;
            int right = left + 1;
            if (right < Count && Better(_scores[left], _slots[left], _scores[right], _slots[right])) worst = right;
            if (!Better(_scores[i], _slots[i], _scores[worst], _slots[worst])) break;
            Swap(i, worst);
            i = worst;
        }
    }
}

/// <summary>The one ordering of hits used everywhere: higher score first, then image id (ordinal).</summary>
public sealed class SearchHitOrder : IComparer<SearchHit>
{
    public static SearchHitOrder BestFirst { get; } = new();

    public int Compare(SearchHit x, SearchHit y)
    {
        int byScore = y.Score.CompareTo(x.Score);
        return byScore != 0 ? byScore : string.CompareOrdinal(x.ImageId, y.ImageId);
    }
}
