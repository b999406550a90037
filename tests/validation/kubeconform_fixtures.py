"""Manifests for the ported kubeconform acceptance cases, one per fixture file of kubeconform's
acceptance.bats (written here for Maestro, not copied): what each holds is what the case's name says.
kubeconform's `valid.yaml` is a ReplicationController `bob`; here `bob` is a Deployment, a kind whose
schema ../shared/schemas has too, so the real kubeconform can check the same files (conformance)."""

from __future__ import annotations

from pathlib import Path

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bob
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      name: nginx
      labels:
        app: nginx
    spec:
      containers:
        - name: nginx
          image: nginx
          ports:
            - containerPort: 80
"""
VALID = DEPLOYMENT.format(replicas=2)
INVALID = DEPLOYMENT.format(replicas='"two"')


def config_map(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n"


def items(*documents: str) -> str:
    """A `kind: List` of the documents, indented under `items:`."""
    body = "".join("  - " + doc.rstrip("\n").replace("\n", "\n    ") + "\n" for doc in documents)
    return "apiVersion: v1\nkind: List\nitems:\n" + (body or "  []\n")


FIXTURES = {
    "valid.yaml": VALID,
    "valid.json": ('{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bob"}, "spec": {"selector":'
                   ' {"matchLabels": {"app": "nginx"}}, "template": {"metadata": {"labels": {"app": "nginx"}},'
                   ' "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}\n'),
    "invalid.yaml": INVALID,
    "folder/one.yaml": "---\n".join(config_map(f"one-{i}") for i in range(3)),
    "folder/two.yaml": "---\n".join(config_map(f"two-{i}") for i in range(4)),
    "int_or_string.yaml": ("apiVersion: v1\nkind: Service\nmetadata:\n  name: heapster\nspec:\n  ports:\n"
                           "    - port: 80\n      targetPort: 8082\n    - port: 443\n      targetPort: https\n"),
    "generate_name.yaml": ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: pi-\nspec:\n  template:\n"
                           "    spec:\n      restartPolicy: Never\n      containers:\n"
                           "        - name: pi\n          image: perl\n"),
    "quantity.yaml": ("apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: mem-limit-range\nspec:\n  limits:\n"
                      "    - default: {memory: 512Mi, cpu: 1}\n      defaultRequest: {memory: 256Mi, cpu: 0.5}\n"
                      "      type: Container\n"),
    "null_string.yaml": ("apiVersion: v1\nkind: Service\nmetadata:\n  name: frontend\nspec:\n  clusterIP: null\n"
                         "  externalIPs: null\n  ports:\n    - port: 80\n"),
    "multi_valid.yaml": "---\n".join(config_map(f"cm-{i}") for i in range(6)),
    "multi_invalid.yaml": "---\n".join([config_map("cm-0"), INVALID, config_map("cm-2")]),
    "blank.yaml": "",
    "comment.yaml": "# a comment and nothing else\n",
    "missing_kind.yaml": "apiVersion: v1\nmetadata:\n  name: nokind\n",
    "missing_apiversion.yaml": "kind: ConfigMap\nmetadata:\n  name: noapiversion\n",
    "missing_kind_value.yaml": "apiVersion: v1\nkind:\nmetadata:\n  name: emptykind\n",
    "test_crd.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: gadget\nspec:\n  size: 3\n",
    "extra_property.yaml": config_map("extra").replace("\ndata:", "\nunknown: field\ndata:"),
    "duplicate_property.yaml": config_map("twice") + "  key: again\n",
    "list_valid.yaml": items(*(config_map(f"item-{i}") for i in range(6))),
    "list_invalid.yaml": items(VALID, INVALID),
    "list_empty_valid.yaml": items(),
    "multi_with_list.yaml": config_map("alone") + "---\n" + items(config_map("listed")),
}


def write_fixtures(root: Path) -> Path:
    """The fixtures under `root`/fixtures, the layout acceptance.bats reads them from."""
    for name, text in FIXTURES.items():
        path = root / "fixtures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
