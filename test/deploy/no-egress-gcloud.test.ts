import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { destinationsIn } from './no-egress-gcloud.ts';

// Lines in the form `strace -f -e trace=connect,sendto,sendmsg,sendmmsg,execve` prints them. The first three are
// what it printed for gcloud here before the private configuration set metrics/environment: a DNS query (for
// metadata.google.internal, from gcloud's metrics-environment check, even with check_gce_metadata off). The last
// shows the AF_INET6 form.
const TRACE = `27487 execve("/usr/bin/python3", ["python3", "/usr/lib/google-cloud-sdk/lib/gcloud.py", "services", "list"], 0x7ffd /* 9 vars */) = 0
27487 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
27487 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0
27490 connect(5, {sa_family=AF_INET, sin_port=htons(36287), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
27491 connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2a00:1450:4001:82a::200a", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)
`;

describe('the egress trace parser', () => {
  it('finds every IPv4 and IPv6 destination, skips unix sockets, and names the program that sent it', () => {
    assert.deepEqual(
      destinationsIn(TRACE).map((d) => `${d.address}:${d.port}`),
      ['10.255.255.53:53', '127.0.0.1:36287', '2a00:1450:4001:82a::200a:443'],
    );
    assert.match(destinationsIn(TRACE)[0]?.command ?? '', /gcloud\.py services list/);
  });
});
