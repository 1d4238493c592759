package podrun

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// TestPodRunsLikeAKubelet: the sidecar is up before the init container runs; the
// init container's env comes from a Secret and its mount from the volume; what a
// container writes outside its mounts is gone at the next start, and what it
// writes to the volume is not.
func TestPodRunsLikeAKubelet(t *testing.T) {
	image := t.TempDir()
	if err := os.WriteFile(filepath.Join(image, "hello"), []byte("from the image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := func(script string) []string { return []string{"sh", "-c", script} }
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"word": []byte("secret-word")}}
	mounts := []corev1.VolumeMount{{Name: "data", MountPath: "/app/state", SubPath: "state"}}
	pod := &Pod{
		Name: "p", Namespace: "ns",
		Reader:  fake.NewClientBuilder().WithObjects(secret).Build(),
		Images:  func(string) (Image, error) { return Image{Root: image, Path: "/app"}, nil },
		Volumes: map[string]string{"data": t.TempDir()},
		Dir:     t.TempDir(),
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](5),
			InitContainers: []corev1.Container{{
				Name: "sidecar", Image: "x", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
				Command: sh("sleep 1; touch /app/state/sidecar-up; exec sleep 300"), VolumeMounts: mounts,
				StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{
					Command: []string{"test", "-f", "/app/state/sidecar-up"}}}, PeriodSeconds: 1, FailureThreshold: 30},
			}, {
				Name: "init", Image: "x", WorkingDir: "/app", VolumeMounts: mounts,
				Env: []corev1.EnvVar{{Name: "WORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "word"}}}},
				Command: sh(`test -f /app/state/sidecar-up || exit 3
[ ! -f layer ] || exit 4
echo "$WORD" >> /app/state/words; cat hello > layer`),
			}},
			Containers: []corev1.Container{{
				Name: "main", Image: "x", Command: sh("exec sleep 300"), VolumeMounts: mounts,
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{
					Command: []string{"test", "-f", "/app/state/words"}}}, PeriodSeconds: 1, FailureThreshold: 5},
			}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for start := 1; start <= 2; start++ {
		if err := pod.Start(ctx); err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		if err := pod.WaitReady(ctx); err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		pod.Stop()
	}
	words, err := os.ReadFile(filepath.Join(pod.Volumes["data"], "state", "words"))
	if err != nil || strings.Count(string(words), "secret-word") != 2 {
		t.Errorf("the volume holds %q (%v), want the Secret's word once per start", words, err)
	}
	if _, err := os.Stat(filepath.Join(image, "layer")); err == nil {
		t.Error("a container wrote into the image's files")
	}
}
