package devcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kwokNodeAnnotation marks the nodes kwok simulates.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// startNodeSimulation starts what turns Deployments into Available pods without a
// kubelet: the controller-manager (ReplicaSets, garbage collection, service accounts),
// the scheduler, and kwok playing one node.
func (e *Env) startNodeSimulation(ctx context.Context) error {
	k8s := e.binDirs["k8s"]
	kcmAddr, err := freePort()
	if err != nil {
		return err
	}
	if err := e.start("kube-controller-manager", filepath.Join(k8s, "kube-controller-manager"),
		"--kubeconfig="+e.kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1",
		"--secure-port="+kcmAddr, "--use-service-account-credentials=false",
		// No service-account signing key is shared with it, no pod network to
		// allocate, and kwok's node sends no heartbeats the lifecycle controller
		// would wait for.
		"--controllers=*,-serviceaccount-token-controller,-node-ipam-controller,-node-lifecycle-controller"); err != nil {
		return err
	}
	schedAddr, err := freePort()
	if err != nil {
		return err
	}
	if err := e.start("kube-scheduler", filepath.Join(k8s, "kube-scheduler"),
		"--kubeconfig="+e.kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1",
		"--secure-port="+schedAddr); err != nil {
		return err
	}
	kwokAddr, err := freeAddr()
	if err != nil {
		return err
	}
	kwok := e.binDirs["kwok"]
	if err := e.start("kwok", filepath.Join(kwok, "kwok"),
		"--kubeconfig="+e.kubeconfig, "--config="+filepath.Join(kwok, "stages.yaml"),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
		"--server-address="+kwokAddr, "--node-ip=127.0.0.1"); err != nil {
		return err
	}
	if err := e.createNode(ctx); err != nil {
		return err
	}
	return e.createVolumes(ctx)
}

// createVolumes offers a few volumes for the forums' claims to bind to: nothing
// provisions storage on a simulated node.
func (e *Env) createVolumes(ctx context.Context) error {
	for i := range 4 {
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("dev-volume-%d", i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("50Gi")},
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: filepath.Join(e.dir, "volumes", fmt.Sprint(i)),
				}},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			},
		}
		if err := e.client.Create(ctx, pv); err != nil {
			return fmt.Errorf("cannot create volume %s: %w", pv.Name, err)
		}
	}
	return nil
}

// createNode registers the node kwok plays, with room for every sample's workloads.
func (e *Env) createNode(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "kwok-node-0",
			Annotations: map[string]string{kwokNodeAnnotation: "fake"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if err := e.client.Create(ctx, node); err != nil {
		return fmt.Errorf("cannot create the kwok node: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := e.client.Get(ctx, clientKey(node.Name), node); err == nil && nodeReady(node) {
			// Admission tainted the new node not-ready; the node-lifecycle
			// controller that would lift the taint is off (no heartbeats here).
			// A merge patch, not an update: kwok writes the node's status meanwhile.
			untaint := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"taints":null}}`))
			return e.client.Patch(ctx, node, untaint)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("the kwok node did not turn Ready within a minute (see %s)", filepath.Join(e.dir, "kwok.log"))
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
