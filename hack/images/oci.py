#!/usr/bin/env python3
"""Write OCI image layouts and archives without a container engine (stdlib only).

Used by hack/images/build.sh:

  oci.py image --layout DIR --layer TAR [--layer TAR ...] --config JSON --ref REF [--ref REF ...]
      Compress each uncompressed layer TAR (gzip -n), write the image config (JSON holds the `config` section:
      Entrypoint, Cmd, Env, WorkingDir, User, Labels, ...), the manifest and an index.json naming the image.
  oci.py name --layout DIR --ref REF [--ref REF ...]
      Rewrite the index.json of a layout that holds one image (for example from `buildah push oci:DIR`) so that the
      image is listed once per REF.
  oci.py archive --layout DIR --out FILE
      Pack a layout into a tar that `ctr images import` and `skopeo copy oci-archive:` read.

Every index entry carries two annotations: `io.containerd.image.name` (the full reference; what `ctr images import`
names the image by) and `org.opencontainers.image.ref.name` (the tag, as the OCI layout spec intends).
"""
import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
CHUNK = 1 << 20


def die(msg):
    print(f"oci.py: {msg}", file=sys.stderr)
    sys.exit(1)


def epoch():
    return int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def rfc3339(ts):
    import datetime

    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def goarch():
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}.get(m, m)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def blobs_dir(layout):
    d = os.path.join(layout, "blobs", "sha256")
    os.makedirs(d, exist_ok=True)
    return d


def put_bytes(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs_dir(layout), digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def put_layer(layout, tar_path):
    """gzip a layer into the layout; return (diff_id, digest, size)."""
    diff_id = "sha256:" + sha256_file(tar_path)
    fd, tmp = tempfile.mkstemp(dir=blobs_dir(layout), prefix=".layer-")
    with os.fdopen(fd, "wb") as out, open(tar_path, "rb") as inp:
        subprocess.run(["gzip", "-n", "-6", "-c"], stdin=inp, stdout=out, check=True)
    digest = sha256_file(tmp)
    os.replace(tmp, os.path.join(blobs_dir(layout), digest))
    return diff_id, "sha256:" + digest, os.path.getsize(os.path.join(blobs_dir(layout), digest))


def split_ref(ref):
    """Return the tag of a reference (the part after the last ':' that follows the last '/')."""
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        die(f"reference needs an explicit tag: {ref}")
    return tag


def write_index(layout, manifest_desc, refs):
    manifests = []
    for ref in refs:
        d = dict(manifest_desc)
        d["annotations"] = {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": split_ref(ref)}
        manifests.append(d)
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": manifests}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def cmd_image(a):
    with open(a.config) as f:
        cfg_section = json.load(f)
    os.makedirs(a.layout, exist_ok=True)
    diff_ids, layers, history = [], [], []
    created = rfc3339(epoch())
    for tar_path in a.layer:
        diff_id, digest, size = put_layer(a.layout, tar_path)
        diff_ids.append(diff_id)
        layers.append({"mediaType": MT_LAYER_GZIP, "digest": digest, "size": size})
        history.append({"created": created, "created_by": "hack/images/build.sh: " + os.path.basename(tar_path)})
    config = {
        "created": created,
        "architecture": goarch(),
        "os": "linux",
        "config": cfg_section,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    cdigest, csize = put_bytes(a.layout, json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cdigest, "size": csize},
        "layers": layers,
    }
    mdigest, msize = put_bytes(a.layout, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    desc = {
        "mediaType": MT_MANIFEST,
        "digest": mdigest,
        "size": msize,
        "platform": {"architecture": goarch(), "os": "linux"},
    }
    write_index(a.layout, desc, a.ref)
    print(mdigest)


def cmd_name(a):
    with open(os.path.join(a.layout, "index.json")) as f:
        index = json.load(f)
    digests = {m["digest"] for m in index.get("manifests", [])}
    if len(digests) != 1:
        die(f"{a.layout}: expected one image in index.json, found {len(digests)}")
    m = dict(index["manifests"][0])
    m.pop("annotations", None)
    m.setdefault("mediaType", MT_MANIFEST)
    write_index(a.layout, m, a.ref)
    print(m["digest"])


def cmd_archive(a):
    ts = epoch()
    entries = []
    for root, dirs, files in os.walk(a.layout):
        dirs.sort()
        rel = os.path.relpath(root, a.layout)
        for name in sorted(files):
            if name.startswith("."):
                die(f"stray temporary file in layout: {os.path.join(root, name)}")
            entries.append(os.path.normpath(os.path.join(rel, name)))
    # oci-layout and index.json first, then blobs, so streaming readers see the index early.
    head = [e for e in ("oci-layout", "index.json") if e in entries]
    entries = head + sorted(e for e in entries if e not in head)
    with tarfile.open(a.out, "w", format=tarfile.PAX_FORMAT) as tf:
        seen_dirs = set()
        for e in entries:
            parts = e.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen_dirs:
                    seen_dirs.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, ts
                    tf.addfile(ti)
            path = os.path.join(a.layout, e)
            ti = tarfile.TarInfo(e)
            ti.size, ti.mode, ti.mtime = os.path.getsize(path), 0o644, ts
            with open(path, "rb") as f:
                tf.addfile(ti, f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pi = sub.add_parser("image")
    pi.add_argument("--layout", required=True)
    pi.add_argument("--layer", action="append", required=True)
    pi.add_argument("--config", required=True)
    pi.add_argument("--ref", action="append", required=True)
    pn = sub.add_parser("name")
    pn.add_argument("--layout", required=True)
    pn.add_argument("--ref", action="append", required=True)
    pa = sub.add_parser("archive")
    pa.add_argument("--layout", required=True)
    pa.add_argument("--out", required=True)
    a = p.parse_args()
    {"image": cmd_image, "name": cmd_name, "archive": cmd_archive}[a.cmd](a)


if __name__ == "__main__":
    main()
