using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using ObjectRetrieval.Gateway.Security;

namespace ObjectRetrieval.Cli;

/// <summary>The configuration of a one-process cluster that a command hosts itself (demo, embedded ingest, bench search).</summary>
internal static class EmbeddedHost
{
    /// <summary>
    /// Localhost clustering on free loopback ports, index storage in <paramref name="storageDirectory"/>, quiet logs,
    /// and one admin API key, <paramref name="apiKey"/> (only its hash goes into the configuration; a fresh key when
    /// null, for hosts that make no HTTP calls); <paramref name="extra"/> adds or overrides keys.
    /// </summary>
    public static IConfiguration Configuration(
        string clusterId, IReadOnlyList<string>? roles, string model, string storageDirectory, string httpUrl, IReadOnlyDictionary<string, string?>? extra = null,
        string? apiKey = null)
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
            ["Gateway:ApiKeys:0:Name"] = "local-admin",
            ["Gateway:ApiKeys:0:Role"] = ApiRoles.Admin,
            ["Gateway:ApiKeys:0:Sha256"] = ApiKey.HashHex(apiKey ?? ApiKey.New()),
        };
        for (int i = 0; i < (roles?.Count ?? 0); i++) settings[$"ObjectRetrieval:Roles:{i}"] = roles![i];
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    /// <summary>An HTTP client of an embedded gateway, sending <paramref name="apiKey"/> with every request.</summary>
    public static HttpClient Client(string baseAddress, string apiKey, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseAddress), Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return http;
    }

    /// <summary>A port the operating system just reported free on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
