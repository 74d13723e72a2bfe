import { terminalMeta } from '../../src/cli/runtime';

describe("--verbose's worker log lines on the terminal", () => {
  it('keep which step of which workflow it was and leave the SDK context to the log file', () => {
    const meta = {
      sdkComponent: 'activity',
      taskQueue: 'kamal-dev',
      isLocal: false,
      attempt: 2,
      namespace: 'default',
      taskToken: 'CiQwMWEy...',
      activityId: '3',
      activityType: 'buildImages',
      workflowId: 'deploy-app-1',
      workflowRunId: '01a237b4',
      workflowType: 'DeployWorkspaces',
    };
    expect(terminalMeta(meta)).toEqual({ taskQueue: 'kamal-dev', attempt: 2, activityType: 'buildImages', workflowId: 'deploy-app-1', workflowType: 'DeployWorkspaces' });
    expect(terminalMeta(undefined)).toBeUndefined();
  });
});
