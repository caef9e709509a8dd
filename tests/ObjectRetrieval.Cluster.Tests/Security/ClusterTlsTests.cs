using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using ObjectRetrieval.Abstractions;
using ObjectRetrieval.Grains;
using ObjectRetrieval.Grains.Placement;
using ObjectRetrieval.Grains.Storage;
using ObjectRetrieval.Silo;
using Orleans.TestingHost;

namespace ObjectRetrieval.Cluster.Tests.Security;

/// <summary>The cluster's own ports under mutual TLS, through the same extension the hosts use.</summary>
public sealed class ClusterTlsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-tls-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task Silos_and_clients_with_the_cluster_certificate_talk_over_mutual_tls()
    {
        Directory.CreateDirectory(_root);
        var tls = new ClusterTlsSettings { Enabled = true, CertificatePath = WriteCertificate("cluster.pfx", "CN=objret-cluster") };
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddSiloRoles(SiloRoles.All);
            silo.Services.AddSingleton<IIndexStorage>(new LocalDirectoryIndexStorage(Path.Combine(_root, "index")));
            silo.Services.AddOptions<ShardOptions>();
            silo.UseClusterTls(tls);
        });
        builder.ConfigureClient(client => client.UseClusterTls(tls));
        await using InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            // Index and shard grains land on both silos: calls cross silo-to-silo and client-to-silo connections.
            for (int i = 0; i < 6; i++)
            {
                IndexDefinition definition = TestData.Definition($"tls-{i}", shards: 4);
                Assert.Equal(IndexCreation.Created, await cluster.Client.GetGrain<IIndexGrain>(definition.Name).CreateAsync(definition));
                Assert.Equal(4, (await Task.WhenAll(Enumerable.Range(0, 4).Select(s =>
                    cluster.Client.GetGrain<IIndexShardGrain>(ShardRouting.ShardKey(definition.Name, s)).StatsAsync()))).Length);
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
        }
    }

    [Fact]
    public void A_peer_certificate_is_trusted_only_when_it_is_the_clusters_or_signed_by_the_configured_authority()
    {
        using X509Certificate2 own = SelfSigned("CN=objret-cluster");
        using X509Certificate2 stranger = SelfSigned("CN=somebody-else");
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=objret-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=objret-silo", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 signed = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [1, 2, 3, 4]);

        Assert.True(ClusterTls.IsTrusted(own, own, null));
        Assert.False(ClusterTls.IsTrusted(stranger, own, null));
        Assert.False(ClusterTls.IsTrusted(signed, own, null));
        Assert.True(ClusterTls.IsTrusted(signed, own, [ca]));
        Assert.False(ClusterTls.IsTrusted(stranger, own, [ca]));
    }

    private string WriteCertificate(string name, string subject)
    {
        using X509Certificate2 certificate = SelfSigned(subject);
        string path = Path.Combine(_root, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return path;
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
