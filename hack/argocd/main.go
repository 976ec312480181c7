// Command argocd-health runs Argo CD resource health checks (health.lua) the way the Argo CD application
// controller does, on gopher-lua (Lua 5.1 semantics, the same module version Argo CD v3.6 builds with), so that the
// checks shipped under argocd/resource_customizations/ can be tested without an Argo CD server.
//
// The Lua environment matches Argo CD's health VM (util/lua in Argo CD v3.5.7 and v3.6.1):
//   - no standard library except package, base, table and an os table with only time and date
//     (string, math, io, coroutine and debug are absent unless useOpenLibs is set for the kind);
//   - the object as the global `obj` (JSON numbers are Lua numbers), an empty global `actionParams`;
//   - a 1 s deadline per evaluation;
//   - the script's return value: a table with `status` and `message`, where a status other than Healthy,
//     Progressing, Degraded, Suspended, Missing or Unknown becomes Unknown with the message
//     "Lua returned an invalid health status"; nil means "no health for this object".
//
// Usage:
//
//	argocd-health test DIR               every DIR/**/health_test.yaml (Argo CD's layout: tests[].inputPath and
//	                                     tests[].healthStatus.{status,message}, inputs relative to the file);
//	                                     one JSON line per case, exit status 1 if any case differs
//	argocd-health eval [--open-libs] SCRIPT   a JSON array of objects on stdin; a JSON array of results on stdout
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// Health is what a health script evaluates to.
type Health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

var validStatuses = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

const invalidStatusMessage = "Lua returned an invalid health status"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "test":
		if len(os.Args) != 3 {
			usage()
		}
		os.Exit(runTests(os.Args[2], os.Stdout))
	case "eval":
		args := os.Args[2:]
		openLibs := false
		if len(args) > 0 && args[0] == "--open-libs" {
			openLibs, args = true, args[1:]
		}
		if len(args) != 1 {
			usage()
		}
		if err := runEval(args[0], openLibs, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "argocd-health:", err)
			os.Exit(2)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: argocd-health test DIR | argocd-health eval [--open-libs] SCRIPT < objects.json")
	os.Exit(2)
}

// Evaluate runs script against obj. A nil Health with a nil error means the script returned nil.
func Evaluate(script string, obj map[string]any, openLibs bool) (*Health, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openClockOnlyOs},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, fmt.Errorf("opening the %q library: %w", lib.name, err)
		}
	}
	L.PreloadModule(lua.OsLibName, openClockOnlyOs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("actionParams", L.NewTable())
	L.SetGlobal("obj", toLua(L, obj))

	fn, err := L.LoadString(script)
	if err != nil {
		return nil, err
	}
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorRun {
			apiErr.StackTrace = ""
		}
		return nil, err
	}
	switch ret := L.Get(-1).(type) {
	case *lua.LNilType:
		return nil, nil
	case *lua.LTable:
		return healthOf(ret)
	default:
		return nil, fmt.Errorf("expect table output from Lua script, not %s", ret.Type().String())
	}
}

// healthOf reads status and message the way Argo CD does (JSON-encoding the table, then decoding it into its health
// type): an empty table or an array gives an empty health, a non-string status or message is an error.
func healthOf(t *lua.LTable) (*Health, error) {
	if t.Len() > 0 || isEmpty(t) {
		return &Health{}, nil
	}
	h := &Health{}
	for key, dst := range map[string]*string{"status": &h.Status, "message": &h.Message} {
		switch v := t.RawGetString(key).(type) {
		case *lua.LNilType:
		case lua.LString:
			*dst = string(v)
		default:
			return nil, fmt.Errorf("health %s must be a string, got %s", key, v.Type().String())
		}
	}
	if !validStatuses[h.Status] {
		return &Health{Status: "Unknown", Message: invalidStatusMessage}, nil
	}
	return h, nil
}

func isEmpty(t *lua.LTable) bool {
	k, _ := t.Next(lua.LNil)
	return k == lua.LNil
}

// openClockOnlyOs installs an os table holding only os.time and os.date (no files, processes or environment).
func openClockOnlyOs(L *lua.LState) int {
	full := lua.NewState()
	defer full.Close()
	lib := full.GetGlobal(lua.OsLibName).(*lua.LTable)
	safe := L.NewTable()
	for _, name := range []string{"time", "date"} {
		safe.RawSetString(name, L.NewFunction(lib.RawGetString(name).(*lua.LFunction).GFunction))
	}
	L.SetGlobal(lua.OsLibName, safe)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString(lua.OsLibName, safe)
	}
	L.Push(safe)
	return 1
}

// toLua converts decoded JSON into Lua values: objects and arrays become tables (arrays 1-based), numbers numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(L, item))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetH(lua.LString(k), toLua(L, item))
		}
		return t
	}
	return lua.LNil
}

func readObject(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

type testFile struct {
	Tests []struct {
		HealthStatus Health `json:"healthStatus"`
		InputPath    string `json:"inputPath"`
	} `json:"tests"`
}

type caseResult struct {
	Check    string  `json:"check"`
	Input    string  `json:"input"`
	Expected Health  `json:"expected"`
	Actual   *Health `json:"actual"`
	Error    string  `json:"error,omitempty"`
	OK       bool    `json:"ok"`
}

func runTests(dir string, out io.Writer) int {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "health_test.yaml" {
			files = append(files, path)
		}
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no health_test.yaml under %s", dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health:", err)
		return 2
	}
	sort.Strings(files)
	enc := json.NewEncoder(out)
	failed, total := 0, 0
	for _, file := range files {
		base := filepath.Dir(file)
		check, _ := filepath.Rel(dir, base)
		script, err := os.ReadFile(filepath.Join(base, "health.lua"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "argocd-health:", err)
			return 2
		}
		var tf testFile
		raw, err := os.ReadFile(file)
		if err == nil {
			err = yaml.UnmarshalStrict(raw, &tf)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "argocd-health: %s: %v\n", file, err)
			return 2
		}
		for _, tc := range tf.Tests {
			total++
			r := caseResult{Check: filepath.ToSlash(check), Input: tc.InputPath, Expected: tc.HealthStatus}
			obj, err := readObject(filepath.Join(base, tc.InputPath))
			if err == nil {
				r.Actual, err = Evaluate(string(script), obj, false)
			}
			if err != nil {
				r.Error = err.Error()
			}
			r.OK = err == nil && r.Actual != nil && *r.Actual == tc.HealthStatus
			if !r.OK {
				failed++
			}
			_ = enc.Encode(r)
		}
	}
	fmt.Fprintf(os.Stderr, "argocd-health: %d cases in %d files, %d failed\n", total, len(files), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

type evalResult struct {
	Health *Health `json:"health"`
	Error  string  `json:"error,omitempty"`
}

func runEval(scriptPath string, openLibs bool, in io.Reader, out io.Writer) error {
	script, err := os.ReadFile(scriptPath)
	if err != nil {
		return err
	}
	var objs []map[string]any
	if err := json.NewDecoder(in).Decode(&objs); err != nil {
		return fmt.Errorf("stdin must be a JSON array of objects: %w", err)
	}
	results := make([]evalResult, 0, len(objs))
	for _, obj := range objs {
		h, err := Evaluate(string(script), obj, openLibs)
		r := evalResult{Health: h}
		if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	return json.NewEncoder(out).Encode(results)
}
