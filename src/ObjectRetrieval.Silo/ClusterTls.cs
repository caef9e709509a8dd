using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace ObjectRetrieval.Silo;

/// <summary>
/// Mutual TLS on the Orleans ports: both ends present a certificate, and a peer is accepted when its certificate is
/// ours (one certificate for the whole cluster) or chains to the configured CA. Host names are not checked: silos
/// are reached by pod address.
/// </summary>
public static class ClusterTls
{
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, ClusterTlsSettings settings)
    {
        if (!settings.Enabled) return silo;
        X509Certificate2 certificate = LoadCertificate(settings);
        X509Certificate2Collection? authorities = LoadAuthorities(settings);
        return silo.UseTls(certificate, o => Configure(o, certificate, authorities));
    }

    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClusterTlsSettings settings)
    {
        if (!settings.Enabled) return client;
        X509Certificate2 certificate = LoadCertificate(settings);
        X509Certificate2Collection? authorities = LoadAuthorities(settings);
        return client.UseTls(certificate, o => Configure(o, certificate, authorities));
    }

    /// <summary>Whether a peer's certificate is acceptable: the same certificate as ours, or one issued by a trusted authority.</summary>
    public static bool IsTrusted(X509Certificate2 peer, X509Certificate2 own, X509Certificate2Collection? authorities)
    {
        if (string.Equals(peer.Thumbprint, own.Thumbprint, StringComparison.OrdinalIgnoreCase)) return true;
        if (authorities is null || authorities.Count == 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }

    private static void Configure(TlsOptions options, X509Certificate2 certificate, X509Certificate2Collection? authorities)
    {
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (peer, _, errors) =>
            (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0 && IsTrusted(peer, certificate, authorities);
    }

    private static X509Certificate2 LoadCertificate(ClusterTlsSettings settings) =>
        X509CertificateLoader.LoadPkcs12FromFile(settings.CertificatePath!, settings.CertificatePassword);

    private static X509Certificate2Collection? LoadAuthorities(ClusterTlsSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.TrustedCaPath)) return null;
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(settings.TrustedCaPath);
        return authorities;
    }
}
