using Orleans.Metadata;
using Orleans.Placement;

namespace ObjectRetrieval.Grains.Placement;

/// <summary>
/// The roles a process can have, and how a silo publishes them: silo metadata <c>role.{name}</c> = "true"/"false".
/// Placement reads the metadata so grains land only on silos that have the role their attribute names
/// (the filter's director and its registration live with the silo host: AddSiloRolePlacement).
/// </summary>
public static class SiloRoles
{
    public const string Index = "index";
    public const string Encoder = "encoder";
    public const string Gateway = "gateway";

    public static readonly string[] All = [Index, Encoder, Gateway];

    /// <summary>Silo metadata key of a role ("role.index").</summary>
    public static string MetadataKey(string role) => "role." + role;

    /// <summary>The metadata a silo with <paramref name="roles"/> publishes: every known role, "true" or "false".</summary>
    public static Dictionary<string, string> Metadata(IEnumerable<string> roles)
    {
        var held = new HashSet<string>(roles, StringComparer.OrdinalIgnoreCase);
        return All.ToDictionary(MetadataKey, role => held.Contains(role) ? "true" : "false");
    }
}

/// <summary>
/// Grains of the marked class are placed only on silos that publish <c>role.{role}</c> = "true". Unlike Orleans'
/// RequiredMatchSiloMetadataPlacementFilter (which matches the calling silo's own value, so a call arriving at
/// a gateway-only silo would place shards on gateway-only silos), this names the value that must be present.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloRolePlacementFilterAttribute(string role)
    : PlacementFilterAttribute(new SiloRolePlacementFilterStrategy(role));

/// <summary>The role a grain class needs, carried from the attribute to every silo through the grain's properties.</summary>
public sealed class SiloRolePlacementFilterStrategy : PlacementFilterStrategy
{
    private const string RoleProperty = "role";

    public SiloRolePlacementFilterStrategy()
        : this(string.Empty)
    {
    }

    public SiloRolePlacementFilterStrategy(string role)
        : base(order: 0)
    {
        Role = role;
    }

    public string Role { get; private set; }

    public override void AdditionalInitialize(GrainProperties properties) =>
        Role = GetPlacementFilterGrainProperty(RoleProperty, properties)
            ?? throw new InvalidOperationException("Grain properties carry no role for the silo-role placement filter.");

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(
        IServiceProvider services, Type grainClass, GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new KeyValuePair<string, string>(RoleProperty, Role);
    }
}
