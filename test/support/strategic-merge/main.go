// The reference for src/render/strategic-merge.ts: Kubernetes' own strategic merge patch
// (k8s.io/apimachinery/pkg/util/strategicpatch) on the API types kubeadm patches. Reads one JSON case
// per line ({"type", "original", "patch"}) and writes one line per case: {"result": …} or {"error": "…"}.
package main

import (
	"bufio"
	"encoding/json"
	"os"

	apps "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	kubelet "k8s.io/kubelet/config/v1beta1"
)

type testCase struct {
	Type     string          `json:"type"`
	Original json.RawMessage `json:"original"`
	Patch    json.RawMessage `json:"patch"`
}

type answer struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	types := map[string]interface{}{"Pod": v1.Pod{}, "Deployment": apps.Deployment{}, "KubeletConfiguration": kubelet.KubeletConfiguration{}}
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			panic(err)
		}
		result, err := func() (result []byte, err error) {
			// A patch the library cannot handle may panic (a list of lists, a null item): an error as any other.
			defer func() {
				if r := recover(); r != nil {
					err = panicError{r}
				}
			}()
			return strategicpatch.StrategicMergePatch(c.Original, c.Patch, types[c.Type])
		}()
		if err != nil {
			_ = out.Encode(answer{Error: err.Error()})
		} else {
			_ = out.Encode(answer{Result: result})
		}
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}

type panicError struct{ value interface{} }

func (p panicError) Error() string { return "panic" }
