// Command benthos is the yardstick of the P5 job (bench/p5): the
// Apache-2.0 stream processor at the core of Redpanda Connect
// (github.com/redpanda-data/benthos/v4) with its standard inputs, outputs
// and Bloblang processors, nothing of earshot. It lives in a module of its
// own so that earshot does not depend on it. Build and run:
//
//	cd bench/p5/benthos && go build -o /tmp/benthos .
//	/tmp/benthos -c DIR/benthos.yaml > /dev/null   # DIR from go run ./bench/p5 -out DIR
//
// Redpanda Connect itself (redpanda-data/connect) is not under an
// open-source licence and is not used here; its file input, mapping
// processor and regular expressions are this core's.
package main

import (
	"context"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

func main() { service.RunCLI(context.Background()) }
