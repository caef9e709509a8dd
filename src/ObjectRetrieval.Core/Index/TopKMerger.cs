namespace ObjectRetrieval.Core.Index;

/// <summary>Merges the per-shard top-k lists of one search into the global top k.</summary>
public static class TopKMerger
{
    /// <summary>
    /// The <paramref name="k"/> best hits over all lists, best first, through one bounded min-heap
    /// (inputs need not be sorted). Equal scores order by image id (ordinal). An image that
    /// appears in several lists (a shard moved mid-search) keeps its best hit only.
    /// </summary>
    public static IReadOnlyList<SearchHit> Merge(IEnumerable<IReadOnlyList<SearchHit>> shardLists, int k)
    {
        ArgumentNullException.ThrowIfNull(shardLists);
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");

        var heap = new SearchHit[Math.Min(k, 1024)];
        int count = 0;
        foreach (IReadOnlyList<SearchHit> list in shardLists)
        {
            for (int i = 0; i < list.Count; i++)
            {
                SearchHit hit = list[i];
                if (count == k && !Better(hit, heap[0])) continue;
                int existing = IndexOf(heap, count, hit.ImageId);
                if (existing >= 0)
                {
                    if (!Better(hit, heap[existing])) continue;
                    heap[existing] = hit;
                    SiftDown(heap, count, existing);
                }
                else if (count < k)
                {
                    if (count == heap.Length) Array.Resize(ref heap, Math.Min(k, heap.Length * 2));
                    heap[count++] = hit;
                    SiftUp(heap, count - 1);
                }
                else
                {
                    heap[0] = hit;
                    SiftDown(heap, count, 0);
                }
            }
        }

        Array.Resize(ref heap, count);
        Array.Sort(heap, SearchHitOrder.BestFirst);
        return heap;
    }

    private static bool Better(SearchHit a, SearchHit b) => SearchHitOrder.BestFirst.Compare(a, b) < 0;

    // Linear: only hits that beat the current k-th reach it, and k is small next to the hit count.
    private static int IndexOf(SearchHit[] heap, int count, string imageId)
    {
        for (int i = 0; i < count; i++)
        {
            if (string.Equals(heap[i].ImageId, imageId, StringComparison.Ordinal)) return i;
        }

        return -1;
    }

    private static void SiftUp(SearchHit[] heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Better(heap[parent], heap[i])) break;
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(SearchHit[] heap, int count, int i)
    {
        while (true)
        {
            int left = 2 * i + 1;
            if (left >= count) break;
            int worst = left;
            if (left + 1 < count && Better(heap[left], heap[left + 1])) worst = left + 1;
            if (!Better(heap[i], heap[worst])) break;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
