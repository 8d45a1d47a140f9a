// The part of Kustomize deploy/k8s uses, for tests (kubectl and kustomize are not installed here):
// `resources` (files and folders with a kustomization.yaml), `namespace`, `images` (newName/newTag)
// and `patches` with an inline JSON 6902 patch (add, replace, remove, test) on a target kind + name.
// Anything else in a kustomization.yaml is refused, so a manifest cannot lean on a feature these
// tests would silently skip.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { target: { kind: string; name: string }; patch: string }[];
}

const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'patches']);

/** Namespaced objects get the overlay's namespace; these do not. */
const CLUSTER_SCOPED = new Set(['Namespace', 'StorageClass', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'ClusterTriggerAuthentication']);

export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

function readYamlFile(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new KustomizeError(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Builds the kustomization in `dir` like `kustomize build dir`, for the features listed above. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const kfile = path.join(dir, 'kustomization.yaml');
  const k = parse(readFileSync(kfile, 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) if (!KNOWN.has(key)) throw new KustomizeError(`${kfile}: "${key}" is not supported by the test loader`);
  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    objects.push(...(statSync(target).isDirectory() ? kustomizeBuild(target) : readYamlFile(target)));
  }
  objects = structuredClone(objects);
  for (const { target, patch } of k.patches ?? []) {
    const matches = objects.filter((o) => o.kind === target.kind && o.metadata.name === target.name);
    if (matches.length !== 1) throw new KustomizeError(`${kfile}: patch target ${target.kind}/${target.name} matches ${matches.length} objects`);
    applyJsonPatch(matches[0]!, parse(patch) as JsonPatchOp[], kfile);
  }
  for (const image of k.images ?? []) {
    for (const o of objects) {
      for (const c of podContainers(o)) {
        const [name, tag] = splitImage(c.image);
        if (name !== image.name) continue;
        c.image = `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}`;
      }
    }
  }
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.name}`;
    if (seen.has(id)) throw new KustomizeError(`${kfile}: ${id} is defined twice`);
    seen.add(id);
  }
  return objects;
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined];
}

export interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: unknown } }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  command?: string[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [source: string]: unknown }[];
  terminationGracePeriodSeconds?: number;
}

/** The pod template of a Deployment or StatefulSet; null for other kinds. */
export function podSpec(o: K8sObject): PodSpec | null {
  if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') return null;
  return (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

export function podContainers(o: K8sObject): Container[] {
  const spec = podSpec(o);
  return spec ? [...(spec.initContainers ?? []), ...spec.containers] : [];
}

type JsonPatchOp = { op: 'add' | 'replace' | 'remove' | 'test'; path: string; value?: unknown };

function applyJsonPatch(doc: object, ops: JsonPatchOp[], where: string): void {
  for (const op of ops) {
    const tokens = op.path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop()!;
    let parent: unknown = doc;
    for (const t of tokens) {
      parent = (parent as Record<string, unknown>)?.[t];
      if (parent === undefined) throw new KustomizeError(`${where}: ${op.op} ${op.path}: no such path`);
    }
    const container = parent as Record<string, unknown>;
    const list = parent as unknown[];
    const isArray = Array.isArray(parent);
    const index = isArray ? (last === '-' ? list.length : Number(last)) : -1;
    if (isArray && (!Number.isInteger(index) || index < 0 || index > list.length)) throw new KustomizeError(`${where}: ${op.op} ${op.path}: bad index`);
    switch (op.op) {
      case 'add':
        if (isArray) list.splice(index, 0, structuredClone(op.value));
        else container[last] = structuredClone(op.value);
        break;
      case 'replace':
      case 'remove':
        if (isArray ? index >= list.length : !(last in container)) throw new KustomizeError(`${where}: ${op.op} ${op.path}: nothing there`);
        if (op.op === 'remove') {
          if (isArray) list.splice(index, 1);
          else delete container[last];
        } else if (isArray) list[index] = structuredClone(op.value);
        else container[last] = structuredClone(op.value);
        break;
      case 'test': {
        const actual = isArray ? list[index] : container[last];
        if (JSON.stringify(actual) !== JSON.stringify(op.value)) {
          throw new KustomizeError(`${where}: test ${op.path} expected ${JSON.stringify(op.value)}, found ${JSON.stringify(actual)}`);
        }
        break;
      }
      default:
        throw new KustomizeError(`${where}: op ${(op as JsonPatchOp).op} is not supported`);
    }
  }
}
