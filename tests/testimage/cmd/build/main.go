// Command build builds the end-to-end test image; tests/testimage/build.sh
// runs it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/composer-orchestrator/composer/tests/testimage"
)

func main() {
	tag := testimage.DefaultTag
	if len(os.Args) > 1 {
		tag = os.Args[1]
	}
	if err := testimage.Build(context.Background(), tag); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tag)
}
