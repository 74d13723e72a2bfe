/** What `kamal-dev deploy` asks for: the input of the deploy workflow and of planDeploy. */
export interface DeployInput {
  projectDir: string;
  /** Default: vms.count in config/dev.yml, else 1. */
  count?: number;
  /** Overrides the computed tag (git sha or timestamp). */
  tag?: string;
  /** devcontainer.json to use instead of the configured or default one (`deploy --from`). */
  from?: string;
  skipBuild: boolean;
  skipPush: boolean;
  noCache?: boolean;
  /** --sync-workspace: copy the local files over the workspace copy on VMs that have one (else only a first deploy seeds it). */
  syncWorkspace?: boolean;
}
