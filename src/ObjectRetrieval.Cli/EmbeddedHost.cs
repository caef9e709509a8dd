using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace ObjectRetrieval.Cli;

/// <summary>The configuration of a one-process cluster that a command hosts itself (demo, embedded ingest, bench search).</summary>
internal static class EmbeddedHost
{
    /// <summary>
    /// Localhost clustering on free loopback ports, index storage in <paramref name="storageDirectory"/>, quiet logs;
    /// <paramref name="extra"/> adds or overrides keys.
    /// </summary>
    public static IConfiguration Configuration(
        string clusterId, IReadOnlyList<string>? roles, string model, string storageDirectory, string httpUrl, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ObjectRetrieval:ModelDirectory"] = model,
            ["ObjectRetrieval:HttpUrl"] = httpUrl,
            ["ObjectRetrieval:Cluster:Mode"] = "Localhost",
            ["ObjectRetrieval:Cluster:ClusterId"] = clusterId,
            ["ObjectRetrieval:Cluster:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["ObjectRetrieval:Cluster:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["ObjectRetrieval:Storage:Kind"] = "Directory",
            ["ObjectRetrieval:Storage:Directory"] = storageDirectory,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Error",
        };
        for (int i = 0; i < (roles?.Count ?? 0); i++) settings[$"ObjectRetrieval:Roles:{i}"] = roles![i];
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    /// <summary>A port the operating system just reported free on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
