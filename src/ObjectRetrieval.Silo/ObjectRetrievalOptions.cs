using ObjectRetrieval.Grains.Placement;

namespace ObjectRetrieval.Silo;

/// <summary>A process's roles, cluster membership, storage and model: the "ObjectRetrieval" configuration section.</summary>
public sealed class ObjectRetrievalOptions
{
    public const string SectionName = "ObjectRetrieval";

    /// <summary>Any of "index" (hosts shards), "encoder" (encodes images), "gateway" (serves HTTP).</summary>
    public List<string> Roles { get; set; } = [SiloRoles.Index, SiloRoles.Encoder, SiloRoles.Gateway];

    public ClusterSettings Cluster { get; set; } = new();

    public StorageSettings Storage { get; set; } = new();

    /// <summary>Model package directory (model.json): the text tower for the gateway, the image tower for encoders.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>Where the gateway listens.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>When set, /metrics answers only on this port (same host as <see cref="HttpUrl"/>), kept off the public service.</summary>
    public int? ManagementPort { get; set; }

    /// <summary>TLS on the silo-to-silo and client-to-silo connections (Orleans' TLS connection support).</summary>
    public ClusterTlsSettings Tls { get; set; } = new();

    public bool HasRole(string role) => Roles.Contains(role, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every missing or contradictory setting, named by its configuration path.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        string p = SectionName;
        foreach (string role in Roles.Where(r => !SiloRoles.All.Contains(r, StringComparer.OrdinalIgnoreCase)))
        {
            problems.Add($"{p}:Roles has unknown role '{role}' (known: {string.Join(", ", SiloRoles.All)}).");
        }

        if (Roles.Count == 0) problems.Add($"{p}:Roles is empty; name at least one of {string.Join(", ", SiloRoles.All)}.");
        switch (Cluster.Mode)
        {
            case ClusteringMode.Localhost:
                break;
            case ClusteringMode.AzureTable:
                if (string.IsNullOrWhiteSpace(Cluster.AzureTableConnectionString)) problems.Add($"{p}:Cluster:AzureTableConnectionString is required when {p}:Cluster:Mode is AzureTable.");
                break;
            default:
                problems.Add($"{p}:Cluster:Mode '{Cluster.Mode}' is not Localhost or AzureTable.");
                break;
        }

        if (Cluster.SiloPort is < 1 or > 65535) problems.Add($"{p}:Cluster:SiloPort {Cluster.SiloPort} is not a port.");
        if (Cluster.GatewayPort is < 1 or > 65535) problems.Add($"{p}:Cluster:GatewayPort {Cluster.GatewayPort} is not a port.");
        bool hostsSilo = HasRole(SiloRoles.Index) || HasRole(SiloRoles.Encoder);
        if (hostsSilo && HasRole(SiloRoles.Index))
        {
            switch (Storage.Kind)
            {
                case StorageKind.Directory when string.IsNullOrWhiteSpace(Storage.Directory):
                    problems.Add($"{p}:Storage:Directory is required when {p}:Storage:Kind is Directory.");
                    break;
                case StorageKind.Blob when string.IsNullOrWhiteSpace(Storage.BlobConnectionString):
                    problems.Add($"{p}:Storage:BlobConnectionString is required when {p}:Storage:Kind is Blob.");
                    break;
                case StorageKind.Blob when string.IsNullOrWhiteSpace(Storage.BlobContainer):
                    problems.Add($"{p}:Storage:BlobContainer is required when {p}:Storage:Kind is Blob.");
                    break;
            }
        }

        if ((HasRole(SiloRoles.Gateway) || HasRole(SiloRoles.Encoder)) && string.IsNullOrWhiteSpace(ModelDirectory))
        {
            problems.Add($"{p}:ModelDirectory is required for the gateway and encoder roles (the text and image towers).");
        }

        if (HasRole(SiloRoles.Gateway) && !Uri.TryCreate(HttpUrl, UriKind.Absolute, out _)) problems.Add($"{p}:HttpUrl '{HttpUrl}' is not an absolute URL.");
        if (ManagementPort is < 1 or > 65535) problems.Add($"{p}:ManagementPort {ManagementPort} is not a port.");
        if (Tls.Enabled)
        {
            if (string.IsNullOrWhiteSpace(Tls.CertificatePath)) problems.Add($"{p}:Tls:CertificatePath is required when {p}:Tls:Enabled is true (a PKCS#12 file with the private key).");
            else if (!File.Exists(Tls.CertificatePath)) problems.Add($"{p}:Tls:CertificatePath '{Tls.CertificatePath}' does not exist.");
        }
        return problems;
    }
}

public enum ClusteringMode
{
    /// <summary>One process (or a few on one machine): development clustering, no membership table.</summary>
    Localhost,

    /// <summary>Membership in an Azure Storage table (Azurite locally).</summary>
    AzureTable,
}

public sealed class ClusterSettings
{
    public ClusteringMode Mode { get; set; } = ClusteringMode.Localhost;

    public string ClusterId { get; set; } = "objret";

    public string ServiceId { get; set; } = "objret";

    public string? AzureTableConnectionString { get; set; }

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at (the pod IP); loopback when unset.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>For Localhost mode with several processes: the primary silo's port (itself when unset).</summary>
    public int? PrimarySiloPort { get; set; }
}

public enum StorageKind
{
    Directory,
    Blob,
}

public sealed class StorageSettings
{
    public StorageKind Kind { get; set; } = StorageKind.Directory;

    public string? Directory { get; set; }

    public string? BlobConnectionString { get; set; }

    public string BlobContainer { get; set; } = "objret-indexes";
}

/// <summary>
/// Mutual TLS for the cluster's own ports: every silo and client presents the certificate and accepts a peer only
/// when its certificate has the same thumbprint or chains to <see cref="TrustedCaPath"/>.
/// </summary>
public sealed class ClusterTlsSettings
{
    public bool Enabled { get; set; }

    /// <summary>PKCS#12 (.pfx) file with the certificate and its private key (a mounted Secret in the chart).</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>PEM file of the CA that signs the cluster's certificates; without it, peers must present the same certificate.</summary>
    public string? TrustedCaPath { get; set; }
}
