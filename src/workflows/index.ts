// The workflow bundle's entry point: only workflow functions are exported from here.
export { DeployWorkspaces } from './deploy';
export { DeployWorkspace } from './workspace';
export { RemoveWorkspaces, StartWorkspaces, StopWorkspaces } from './lifecycle';
export { OperationLock } from './lock';
