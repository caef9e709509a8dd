using System.Collections.Concurrent;
using ObjectRetrieval.Abstractions.Ingest;
using ObjectRetrieval.Core.Aggregation;
using ObjectRetrieval.Core.Representation;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>
/// Stands in for an encoder process that dies while it encodes an image whose name holds <see cref="Marker"/>.
/// The job hears nothing more under a lease that holds such an image — no renewal, release or report — as when the
/// worker's process is gone and its lease runs out unrenewed; <see cref="ProcessKillingEncoder"/> never finishes the
/// image, so nothing of that lease reaches the shards either. The worker grain is told to stop, so its silo goes on.
/// </summary>
internal sealed class LostProcessSimulator : IIncomingGrainCallFilter
{
    public const string Marker = "kills-process";

    private static readonly ConcurrentDictionary<Guid, string> LostLeases = new();

    /// <summary>Leases handed out with a marked image in them (each one "lost with its process").</summary>
    public static int LeasesLostOf(string jobId) => LostLeases.Count(l => l.Value == jobId);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is not IIngestJobGrain)
        {
            await context.Invoke();
            return;
        }

        switch (context.InterfaceMethod?.Name)
        {
            case nameof(IIngestJobGrain.RenewAsync) when context.Request.GetArgument(1) is Guid lease && LostLeases.ContainsKey(lease):
                context.Result = LeaseRenewal.Stop;
                return;
            case nameof(IIngestJobGrain.ReleaseAsync) when context.Request.GetArgument(1) is Guid lease && LostLeases.ContainsKey(lease):
                return;
            case nameof(IIngestJobGrain.CompleteAsync) when context.Request.GetArgument(0) is IngestBatchResult result && LostLeases.ContainsKey(result.LeaseId):
                return;
        }

        await context.Invoke();
        if (context.InterfaceMethod?.Name == nameof(IIngestJobGrain.LeaseAsync) && context.Result is IngestLease handedOut
            && handedOut.Items.Any(item => item.Name.Contains(Marker, StringComparison.Ordinal)))
        {
            LostLeases[handedOut.LeaseId] = handedOut.JobId;
        }
    }
}

/// <summary>The silo's ingest encoder, except that an image whose id holds <see cref="LostProcessSimulator.Marker"/> never finishes until its worker gives up.</summary>
internal sealed class ProcessKillingEncoder(IIngestImageEncoder inner) : IIngestImageEncoder
{
    public int Dimension => inner.Dimension;

    public async Task<ImageRepresentation> EncodeAsync(IngestImage image, AggregationOptions aggregation, bool keepDensePatches, CancellationToken cancellationToken)
    {
        if (!image.ImageId.Contains(LostProcessSimulator.Marker, StringComparison.Ordinal)) return await inner.EncodeAsync(image, aggregation, keepDensePatches, cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("Unreachable: the wait above ends only by cancellation.");
    }
}
