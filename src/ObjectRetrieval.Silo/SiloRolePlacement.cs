using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Grains.Placement;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace ObjectRetrieval.Silo;

public static class SiloRolePlacement
{
    /// <summary>
    /// Publishes the silo's roles as metadata and registers the role filter with placement. Every silo needs
    /// both: placement runs on whichever silo first receives a call for a grain.
    /// </summary>
    public static ISiloBuilder AddSiloRoles(this ISiloBuilder silo, IEnumerable<string> roles)
    {
        silo.UseSiloMetadata(SiloRoles.Metadata(roles));
        // Transient: placement initialises one strategy instance per grain type with that type's role; a singleton
        // would carry the role of whichever grain type was resolved last.
        silo.Services.AddPlacementFilter<SiloRolePlacementFilterStrategy, SiloRolePlacementFilterDirector>(ServiceLifetime.Transient);
        return silo;
    }
}

/// <summary>Keeps the silos whose published metadata says they have the role; the membership's metadata cache answers locally.</summary>
internal sealed class SiloRolePlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        string key = SiloRoles.MetadataKey(((SiloRolePlacementFilterStrategy)filterStrategy).Role);
        return silos.Where(silo => metadata.GetSiloMetadata(silo).Metadata.TryGetValue(key, out string? value)
            && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase));
    }
}
