// CoreDNS for the local cluster's node tier, with only the plugins its Corefile uses (see
// test/integration/support/real-node-config.ts): cluster.local from the kubernetes plugin, NXDOMAIN for every
// other name (template), no forwarding plugin compiled in at all. Built by hack/cluster/build.sh --node.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/template"
)

func main() { coremain.Run() }
