using Orleans.Runtime;
using ObjectRetrieval.Abstractions.Ingest;

namespace ObjectRetrieval.Grains.Ingest;

/// <summary>Up to <see cref="IngestNames.FailurePageSize"/> failure records of one job.</summary>
public sealed class IngestFailurePageGrain(
    [PersistentState("failures", IngestNames.StorageProvider)] IPersistentState<IngestFailurePageState> state) : Grain, IIngestFailurePageGrain
{
    public async Task WriteAsync(int offset, IReadOnlyList<IngestFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        if (offset < 0 || offset + failures.Count > IngestNames.FailurePageSize) throw new ArgumentOutOfRangeException(nameof(offset), offset, "Records must fit in the page.");
        List<IngestFailure> page = state.State.Failures;
        if (offset > page.Count) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The page holds {page.Count} records; writes may not leave gaps.");
        page.RemoveRange(offset, page.Count - offset);
        page.AddRange(failures);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<IngestFailure>> ReadAsync(int offset, int count)
    {
        List<IngestFailure> page = state.State.Failures;
        offset = Math.Clamp(offset, 0, page.Count);
        count = Math.Clamp(count, 0, page.Count - offset);
        return Task.FromResult<IReadOnlyList<IngestFailure>>(page.GetRange(offset, count));
    }
}

/// <summary>The unfinished jobs, so that a restarted cluster picks them up again.</summary>
public sealed class IngestJobRegistryGrain(
    [PersistentState("registry", IngestNames.StorageProvider)] IPersistentState<IngestJobRegistryState> state) : Grain, IIngestJobRegistryGrain
{
    public async Task AddAsync(string jobId)
    {
        if (state.State.Jobs.Add(jobId)) await state.WriteStateAsync();
    }

    public async Task RemoveAsync(string jobId)
    {
        if (state.State.Jobs.Remove(jobId)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.Jobs.Order(StringComparer.Ordinal).ToArray());

    public async Task WakeAllAsync()
    {
        await Task.WhenAll(state.State.Jobs.ToArray().Select(id => GrainFactory.GetGrain<IIngestJobGrain>(id).WakeAsync()));
    }
}
