using System.Text.RegularExpressions;
using ObjectRetrieval.Deployment.Tests.Infrastructure;
using ObjectRetrieval.ServiceDefaults;
using YamlDotNet.RepresentationModel;
using static ObjectRetrieval.Deployment.Tests.Infrastructure.Manifests;

namespace ObjectRetrieval.Deployment.Tests;

/// <summary>The plain manifests (deploy/k8s) parse, agree with each other, with the chart and with the code's conventions.</summary>
public sealed partial class KubernetesManifestTests
{
    private const int HttpPort = 8080;
    private const int SiloPort = 11111;
    private const int OrleansGatewayPort = 30000;

    private static readonly IReadOnlyList<KubeObject> Objects = LoadDirectory(RepositoryPaths.KubernetesManifests);

    private static IEnumerable<KubeObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    private static YamlMappingNode Container(KubeObject deployment) => Assert.Single(Items(deployment.Node, "spec", "template", "spec", "containers"));

    private static IReadOnlyDictionary<string, string> PodLabels(KubeObject deployment) => StringMap(deployment.Node, "spec", "template", "metadata", "labels");

    private static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(kv => labels.TryGetValue(kv.Key, out var value) && value == kv.Value);

    private static string Component(KubeObject deployment) => PodLabels(deployment)["app.kubernetes.io/component"];

    private static bool IsSilo(KubeObject deployment) => Component(deployment) is "index-silo" or "encoder-silo";

    [Fact]
    public void Manifests_hold_the_three_components_with_services_and_disruption_budgets()
    {
        Assert.Equal(["encoder-silo", "gateway", "index-silo"], OfKind("Deployment").Select(Component).Order(StringComparer.Ordinal));
        Assert.Equal(3, OfKind("Service").Count());
        Assert.Equal(3, OfKind("PodDisruptionBudget").Count());
    }

    [Fact]
    public void Deployment_selectors_match_their_pod_labels_and_use_the_standard_labels()
    {
        foreach (var deployment in OfKind("Deployment"))
        {
            var selector = StringMap(deployment.Node, "spec", "selector", "matchLabels");
            Assert.Equal(["app.kubernetes.io/component", "app.kubernetes.io/instance", "app.kubernetes.io/name"], selector.Keys.Order(StringComparer.Ordinal));
            Assert.True(Selects(selector, PodLabels(deployment)), $"{deployment}: selector does not match its pod labels");
            Assert.True(PodLabels(deployment).ContainsKey("app.kubernetes.io/version"), $"{deployment}: no version label");
        }
    }

    [Fact]
    public void Services_and_disruption_budgets_select_exactly_one_deployment()
    {
        foreach (var selecting in OfKind("Service").Concat(OfKind("PodDisruptionBudget")))
        {
            var selector = selecting.Kind == "Service"
                ? StringMap(selecting.Node, "spec", "selector")
                : StringMap(selecting.Node, "spec", "selector", "matchLabels");
            var matched = OfKind("Deployment").Where(d => Selects(selector, PodLabels(d))).ToList();
            Assert.True(matched.Count == 1, $"{selecting} selects {matched.Count} deployments");
        }
    }

    [Fact]
    public void Service_target_ports_are_container_ports_of_the_selected_pods()
    {
        foreach (var service in OfKind("Service"))
        {
            var deployment = OfKind("Deployment").Single(d => Selects(StringMap(service.Node, "spec", "selector"), PodLabels(d)));
            var containerPorts = Items(Container(deployment), "ports").ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!));
            foreach (var port in Items(service.Node, "spec", "ports"))
            {
                var target = Scalar(port, "targetPort")!;
                Assert.True(containerPorts.ContainsKey(target) || containerPorts.ContainsValue(int.TryParse(target, out var n) ? n : -1),
                    $"{service}: targetPort {target} is not a container port of {deployment}");
                Assert.Equal(HttpPort, containerPorts.TryGetValue(target, out var resolved) ? resolved : int.Parse(target));
            }
        }
    }

    [Fact]
    public void Probes_use_the_service_defaults_health_paths_on_the_http_port()
    {
        foreach (var deployment in OfKind("Deployment"))
        {
            var container = Container(deployment);
            var ports = Items(container, "ports").ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!));
            Assert.Equal(HttpPort, ports["http"]);
            foreach (var (probe, path) in new[]
                     {
                         ("livenessProbe", ServiceDefaultsExtensions.LivePath),
                         ("startupProbe", ServiceDefaultsExtensions.LivePath),
                         ("readinessProbe", ServiceDefaultsExtensions.ReadyPath),
                     })
            {
                Assert.Equal(path, Scalar(container, probe, "httpGet", "path"));
                var port = Scalar(container, probe, "httpGet", "port")!;
                Assert.Equal(HttpPort, ports.TryGetValue(port, out var byName) ? byName : int.Parse(port));
            }
        }
    }

    [Fact]
    public void Environment_follows_the_configuration_conventions()
    {
        foreach (var deployment in OfKind("Deployment"))
        {
            var env = Items(Container(deployment), "env").ToDictionary(e => Scalar(e, "name")!);
            string? Value(string name) => Scalar(env[name], "value");
            var component = Component(deployment);

            // One role per process, bound as a list item (ObjectRetrieval:Roles:0).
            Assert.Equal(component switch { "gateway" => "gateway", "index-silo" => "index", _ => "encoder" }, Value(Conventions.Role));
            Assert.DoesNotContain(env.Keys, k => k.StartsWith("ObjectRetrieval__Roles__", StringComparison.Ordinal) && k != Conventions.Role);
            Assert.Equal($"http://+:{HttpPort}", Value(Conventions.HttpUrl));
            Assert.Equal("AzureTable", Value(Conventions.ClusterMode));
            Assert.False(string.IsNullOrEmpty(Value(Conventions.ClusterId)));
            Assert.False(string.IsNullOrEmpty(Value(Conventions.ServiceId)));
            Assert.Equal("Blob", Value(Conventions.StorageKind));
            Assert.False(string.IsNullOrEmpty(Value(Conventions.BlobContainer)));
            foreach (var secret in new[] { Conventions.AzureTableConnectionString, Conventions.BlobConnectionString })
            {
                Assert.NotNull(Scalar(env[secret], "valueFrom", "secretKeyRef", "name"));
                Assert.Null(Scalar(env[secret], "value"));
            }

            Assert.Equal($"object-retrieval-{component}", Value("OTEL_SERVICE_NAME"));
            Assert.Equal(component != "index-silo", env.ContainsKey(Conventions.ModelDirectory));

            if (IsSilo(deployment))
            {
                Assert.Equal("status.podIP", Scalar(env[Conventions.AdvertisedAddress], "valueFrom", "fieldRef", "fieldPath"));
                Assert.Equal(SiloPort.ToString(), Value(Conventions.SiloPort));
                Assert.Equal(OrleansGatewayPort.ToString(), Value(Conventions.GatewayPort));
                var ports = Items(Container(deployment), "ports").Select(p => int.Parse(Scalar(p, "containerPort")!)).ToList();
                Assert.Contains(SiloPort, ports);
                Assert.Contains(OrleansGatewayPort, ports);
            }
            else
            {
                Assert.DoesNotContain(Conventions.AdvertisedAddress, env.Keys);
            }
        }
    }

    [Fact]
    public void Environment_names_match_the_chart_helpers()
    {
        var helpers = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "templates", "_helpers.tpl"));
        string[] NamesIn(string define) =>
            EnvName().Matches(Define(helpers, define)).Select(m => m.Groups["name"].Value).ToArray();

        // OTEL_EXPORTER_OTLP_ENDPOINT is only rendered when tracing.otlpEndpoint is set, the TLS password only when
        // clusterTls.passwordKey is (neither by default).
        var common = NamesIn("objret.env").Where(n => n is not ("OTEL_EXPORTER_OTLP_ENDPOINT" or "ObjectRetrieval__Tls__CertificatePassword")).ToList();
        var silo = NamesIn("objret.siloEnv");
        var model = NamesIn("objret.modelEnv");
        Assert.NotEmpty(common);
        Assert.NotEmpty(silo);
        Assert.NotEmpty(model);
        foreach (var deployment in OfKind("Deployment"))
        {
            var expected = common
                .Concat(IsSilo(deployment) ? silo : [])
                .Concat(Component(deployment) != "index-silo" ? model : [])

                // The gateway alone reads the API keys file (mounted from its Secret).
                .Concat(Component(deployment) == "gateway" ? ["Gateway__ApiKeysFile"] : []);
            var actual = Items(Container(deployment), "env").Select(e => Scalar(e, "name")!);
            Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Pods_run_as_non_root_with_a_read_only_root_and_a_writable_tmp()
    {
        foreach (var deployment in OfKind("Deployment"))
        {
            var pod = Get(deployment.Node, "spec", "template", "spec");
            Assert.Equal("true", Scalar(pod, "securityContext", "runAsNonRoot"));
            Assert.NotEqual("0", Scalar(pod, "securityContext", "runAsUser"));
            Assert.Equal("false", Scalar(pod, "automountServiceAccountToken"));
            var container = Container(deployment);
            Assert.Equal("true", Scalar(container, "securityContext", "readOnlyRootFilesystem"));
            Assert.Equal("false", Scalar(container, "securityContext", "allowPrivilegeEscalation"));
            var tmpMount = Assert.Single(Items(container, "volumeMounts"), m => Scalar(m, "mountPath") == "/tmp");
            var tmpVolume = Assert.Single(Items(pod, "volumes"), v => Scalar(v, "name") == Scalar(tmpMount, "name"));
            Assert.NotNull(Get(tmpVolume, "emptyDir"));
        }
    }

    [Fact]
    public void Encoder_silos_request_gpus_and_land_on_gpu_nodes()
    {
        var encoder = OfKind("Deployment").Single(d => Component(d) == "encoder-silo");
        Assert.Equal("1", Scalar(Container(encoder), "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("true", Scalar(encoder.Node, "spec", "template", "spec", "nodeSelector", "nvidia.com/gpu.present"));
        Assert.Contains(Items(encoder.Node, "spec", "template", "spec", "tolerations"), t => Scalar(t, "key") == "nvidia.com/gpu");
        Assert.All(OfKind("Deployment").Where(d => d != encoder), d => Assert.Null(Scalar(Container(d), "resources", "limits", "nvidia.com/gpu")));
    }

    [Fact]
    public void Images_and_replicas_are_the_chart_defaults()
    {
        var values = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "values.yaml"));
        var chart = File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "Chart.yaml"));
        var appVersion = AppVersion().Match(chart).Groups["v"].Value;
        foreach (var deployment in OfKind("Deployment"))
        {
            var image = Scalar(Container(deployment), "image")!;
            Assert.EndsWith($"/object-retrieval-{Component(deployment)}:{appVersion}", image);
            Assert.Contains($"repository: object-retrieval-{Component(deployment)}", values);
        }
    }

    private static string Define(string helpers, string name)
    {
        var start = helpers.IndexOf($"define \"{name}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no define {name}");
        var end = helpers.IndexOf("{{- end }}\n\n", start, StringComparison.Ordinal);
        return end < 0 ? helpers[start..] : helpers[start..end];
    }

    [GeneratedRegex(@"- name: (?<name>[A-Za-z_][A-Za-z0-9_]*)\s*\n\s*(?:value|valueFrom)")]
    private static partial Regex EnvName();

    [GeneratedRegex("appVersion: \"(?<v>[^\"]+)\"")]
    private static partial Regex AppVersion();
}
