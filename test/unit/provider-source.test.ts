/** `serverTarget`: the workspace, or the virtual workspace, a kubeconfig's server URL points at. */
import { expect } from 'chai';
import { serverTarget } from '../../src/provider/index.js';

describe('serverTarget', () => {
  const cases: [string, ReturnType<typeof serverTarget>][] = [
    ['https://kcp.example:6443/clusters/root:provider', { workspace: 'root:provider' }],
    ['https://kcp.example:6443/clusters/root:provider/', { workspace: 'root:provider' }],
    ['https://kcp.example:6443/clusters/1ax2nz7k8u3xvq5e', { workspace: '1ax2nz7k8u3xvq5e' }],
    ['https://kcp.example:6443/clusters/root%3Aorg', { workspace: 'root:org' }],
    ['https://kcp.example:6443', { workspace: 'root' }],
    ['https://proxy.example/kcp/clusters/root:a', { workspace: 'root:a' }],
    ['https://shard-1.example:6443/services/apiexport/2f6x0e1gfknqxwpf/widgets', { workspace: '', virtualWorkspace: '/services/apiexport/2f6x0e1gfknqxwpf/widgets' }],
    ['https://shard-1.example:6443/services/apiexport/2f6x0e1gfknqxwpf/widgets/clusters/*', { workspace: '*', virtualWorkspace: '/services/apiexport/2f6x0e1gfknqxwpf/widgets' }],
    ['https://kcp.example/services/initializingworkspaces/root:gated', { workspace: '', virtualWorkspace: '/services/initializingworkspaces/root:gated' }],
    ['https://kcp.example/services/terminatingworkspaces/root:gated/clusters/abc', { workspace: 'abc', virtualWorkspace: '/services/terminatingworkspaces/root:gated' }],
    ['not a url', { workspace: 'root' }],
  ];
  for (const [server, want] of cases) {
    it(server, () => expect(serverTarget(server)).to.deep.equal(want));
  }
});
