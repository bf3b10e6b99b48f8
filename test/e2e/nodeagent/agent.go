/*
Copyright 2026 The signet Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package nodeagent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

const (
	// workers is how many pods are synced at once.
	workers = 4
	// orphanGrace is the grace period of a pod whose object is gone (force
	// deleted, or replaced by another of the same name).
	orphanGrace = time.Second
	// shutdownGrace bounds how long containers get to stop when the agent
	// itself stops.
	shutdownGrace = 10 * time.Second
)

// requiredTools are the programs the agent runs.
var requiredTools = []string{"ip", "iptables", "ip6tables", "iptables-save", "ip6tables-save", "iptables-restore", "ip6tables-restore"}

// Agent is the node agent of one node.
type Agent struct {
	cfg       *Config
	client    kubernetes.Interface
	store     *store
	net       *nodeNetwork
	hostPorts *hostPorts
	node      *nodeRegistration
	metrics   *metrics
	recorder  record.EventRecorder
	// self is the agent's executable, run as each container's first program.
	self string
	// hostResolv is the node's resolv.conf, for dnsPolicy Default.
	hostResolv []byte
	ready      atomic.Bool

	// ipamMu guards ipam and agentRec.
	ipamMu   sync.Mutex
	ipam     []*Allocator
	agentRec *AgentRecord

	// mu guards sandboxes.
	mu        sync.Mutex
	sandboxes map[types.UID]*sandbox

	hostPortsMu  sync.Mutex
	terminations sync.WaitGroup

	pods       corelisters.PodLister
	podsSynced cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
}

// New returns an agent for cfg talking to the API server through client.
func New(cfg *Config, client kubernetes.Interface) (*Agent, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the agent's executable: %w", err)
	}
	a := &Agent{
		cfg:       cfg,
		client:    client,
		net:       newNodeNetwork(cfg.NodeName, cfg.Bridge, cfg.PodCIDRs),
		hostPorts: newHostPorts(),
		node:      newNodeRegistration(client, cfg),
		metrics:   newMetrics(),
		self:      self,
		sandboxes: map[types.UID]*sandbox{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodeagent"}),
	}
	for _, c := range cfg.PodCIDRs {
		alloc, err := NewAllocator(c)
		if err != nil {
			return nil, err
		}
		a.ipam = append(a.ipam, alloc)
	}
	return a, nil
}

// Run runs the agent until ctx ends. On the way out it stops the
// containers but keeps the pods' namespaces and records, so that the next
// run adopts them.
func (a *Agent) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	if err := a.prepareNode(ctx); err != nil {
		return err
	}
	logger.Info("Prepared the node", "node", a.cfg.NodeName, "bridge", a.cfg.Bridge, "podCIDRs", a.cfg.PodCIDRs)
	if a.cfg.HealthAddr != "" {
		if err := serveHealth(ctx, a.cfg.HealthAddr, &a.ready, a.metrics); err != nil {
			return fmt.Errorf("serving health on %s: %w", a.cfg.HealthAddr, err)
		}
	}

	if err := wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: time.Second, Factor: 2, Steps: 1 << 30, Cap: 15 * time.Second},
		func(ctx context.Context) (bool, error) {
			err := a.node.register(ctx)
			if err != nil {
				logger.Error(err, "Registering the Node; retrying")
			}
			return err == nil, nil
		}); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before the Node was registered
		}
		return fmt.Errorf("registering the Node: %w", err)
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	a.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "nodeagent", Host: a.cfg.NodeName})

	stopInformer, err := a.startPodInformer(ctx)
	if err != nil {
		return err
	}
	defer stopInformer()
	if !cache.WaitForCacheSync(ctx.Done(), a.podsSynced) {
		return nil // stopped before the first list
	}

	a.adopt(ctx)
	if err := a.syncHostPorts(ctx); err != nil {
		logger.Error(err, "Writing the hostPort rules")
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.node.run(ctx)
	}()
	var workersDone sync.WaitGroup
	for i := 0; i < workers; i++ {
		workersDone.Add(1)
		go func() {
			defer workersDone.Done()
			for a.processNext(ctx) {
			}
		}()
	}
	a.ready.Store(true)
	logger.Info("Node agent running", "node", a.cfg.NodeName)

	<-ctx.Done()
	logger.Info("Stopping: the pods' containers stop, their namespaces stay for the next run")
	a.ready.Store(false)
	a.queue.ShutDown()
	workersDone.Wait()
	a.stopAllContainers()
	waitTimeout(&a.terminations, 30*time.Second)
	wg.Wait()
	return nil
}

// startPodInformer watches the Pods bound to this node and queues every
// change; the returned function stops it.
func (a *Agent) startPodInformer(ctx context.Context) (func(), error) {
	factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.cfg.NodeName).String()
	}))
	podInformer := factory.Core().V1().Pods()
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.enqueueObject,
		UpdateFunc: func(_, obj interface{}) { a.enqueueObject(obj) },
		DeleteFunc: a.enqueueObject,
	}); err != nil {
		return nil, err
	}
	a.pods = podInformer.Lister()
	a.podsSynced = podInformer.Informer().HasSynced
	factory.Start(ctx.Done())
	return factory.Shutdown, nil
}

// prepareNode checks the environment and sets up the node side: sysctls,
// the bridge, the address allocators.
func (a *Agent) prepareNode(ctx context.Context) error {
	if err := checkMountNamespace(); err != nil {
		return err
	}
	for _, tool := range requiredTools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: install iproute2 and iptables", tool)
		}
	}
	var err error
	if a.store, err = openStore(a.cfg.StateDir); err != nil {
		return err
	}
	if a.agentRec, err = a.store.LoadAgent(); err != nil {
		return err
	}
	if a.agentRec.Node != "" && a.agentRec.Node != a.cfg.NodeName {
		return fmt.Errorf("--state-dir %s belongs to node %s, not %s", a.cfg.StateDir, a.agentRec.Node, a.cfg.NodeName)
	}
	if err := ensureSysctls(); err != nil {
		return err
	}
	created, err := a.net.ensureBridge()
	if created {
		a.agentRec.BridgeCreated = true
	}
	a.agentRec.Node, a.agentRec.Bridge = a.cfg.NodeName, a.cfg.Bridge
	if serr := a.store.SaveAgent(a.agentRec); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	for _, alloc := range a.ipam {
		alloc.SetLastHanded(a.agentRec.LastHanded[alloc.Prefix().String()])
	}
	a.hostResolv, _ = os.ReadFile("/etc/resolv.conf")
	return nil
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func (a *Agent) enqueueObject(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err == nil {
		a.queue.Add(key)
	}
}

func (a *Agent) enqueue(key string) { a.queue.Add(key) }

func (a *Agent) event(pod *corev1.Pod, eventType, reason, format string, args ...interface{}) {
	if a.recorder != nil {
		a.recorder.Eventf(pod, eventType, reason, format, args...)
	}
}

func (a *Agent) processNext(ctx context.Context) bool {
	key, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(key)
	if err := a.syncPod(ctx, key); err != nil {
		klog.FromContext(ctx).Info("Pod sync failed; retrying", "pod", key, "err", err)
		a.queue.AddRateLimited(key)
		return true
	}
	a.queue.Forget(key)
	return true
}

// sandboxesFor returns the sandboxes of a namespace/name: usually one, two
// while a pod replaced under the same name still terminates.
func (a *Agent) sandboxesFor(key string) []*sandbox {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*sandbox
	for _, sb := range a.sandboxes {
		if sb.key == key {
			out = append(out, sb)
		}
	}
	return out
}

func (a *Agent) sandbox(uid types.UID) *sandbox {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sandboxes[uid]
}

// syncPod brings one pod in line with its object: it creates, runs,
// reports on and terminates sandboxes.
func (a *Agent) syncPod(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := a.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		pod = nil
	} else if err != nil {
		return err
	}
	for _, sb := range a.sandboxesFor(key) {
		if pod == nil || sb.uid != pod.UID {
			a.terminate(ctx, sb, orphanGrace, false)
		}
	}
	if pod == nil || pod.Spec.NodeName != a.cfg.NodeName {
		return nil
	}
	sb := a.sandbox(pod.UID)
	if pod.DeletionTimestamp != nil {
		if sb == nil {
			// Nothing of it runs here: finish the deletion.
			return a.deletePod(ctx, pod)
		}
		a.terminate(ctx, sb, gracePeriod(pod), true)
		return nil
	}
	if sb == nil {
		if isTerminal(pod.Status.Phase) {
			return nil
		}
		if sb, err = a.createSandbox(ctx, pod); err != nil {
			a.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create the pod sandbox: %v", err)
			return err
		}
	}
	sb.mu.Lock()
	terminating, netReady := sb.terminating, sb.netReady
	sb.mu.Unlock()
	if terminating {
		return nil
	}
	if !netReady {
		if err := a.setupNetwork(ctx, sb); err != nil {
			a.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to set up the pod's network: %v", err)
			_ = a.writeStatus(ctx, pod, sb)
			return err
		}
	}
	if pod, err = a.ensureAnnotation(ctx, pod, sb); err != nil {
		return err
	}
	requeue := a.syncContainers(ctx, sb)
	if err := a.writeStatus(ctx, pod, sb); err != nil {
		return err
	}
	if requeue > 0 {
		a.queue.AddAfter(key, requeue)
	}
	return nil
}

// createSandbox allocates a pod's addresses and records them; the network
// itself is set up by setupNetwork.
func (a *Agent) createSandbox(ctx context.Context, pod *corev1.Pod) (*sandbox, error) {
	rec := &PodRecord{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	if !pod.Spec.HostNetwork {
		rec.Netns = NetnsName(a.cfg.NodeName, pod.Namespace, pod.Name, pod.UID)
		rec.HostVeth = HostVethName(pod.UID)
		ips, err := a.allocateIPs(string(pod.UID))
		if err != nil {
			return nil, err
		}
		rec.IPs = ips
	}
	if err := a.store.SavePod(rec); err != nil {
		a.releaseIPs(rec.IPs)
		return nil, err
	}
	sb := newSandbox(pod, rec)
	if pod.Spec.HostNetwork {
		sb.netReady, sb.annotated = true, true
	}
	a.mu.Lock()
	a.sandboxes[pod.UID] = sb
	a.metrics.sandboxes.Set(float64(len(a.sandboxes)))
	a.mu.Unlock()
	klog.FromContext(ctx).V(2).Info("Created pod sandbox", "pod", sb.key, "uid", pod.UID, "netns", rec.Netns, "ips", rec.IPs)
	return sb, nil
}

// setupNetwork sets up (or completes) a sandbox's network and files, then
// its hostPorts.
func (a *Agent) setupNetwork(ctx context.Context, sb *sandbox) error {
	start := time.Now()
	sb.mu.Lock()
	pod := sb.pod
	sb.mu.Unlock()
	if err := a.net.setupPod(sb.rec); err != nil {
		return err
	}
	resolv := podResolvConf(pod, a.cfg.DNS, a.hostResolv).String()
	hosts := podHosts(pod, sb.rec.IPs, a.cfg.DNS.ClusterDomain)
	if err := writePodFiles(sb.rec.Netns, resolv, hosts); err != nil {
		return err
	}
	sb.mu.Lock()
	sb.netReady = true
	sb.mu.Unlock()
	a.metrics.sandboxSetup.Observe(time.Since(start).Seconds())
	if err := a.syncHostPorts(ctx); err != nil {
		return fmt.Errorf("hostPort rules: %w", err)
	}
	return nil
}

// ensureAnnotation records the pod's network namespace in its annotations
// and returns the Pod as written.
func (a *Agent) ensureAnnotation(ctx context.Context, pod *corev1.Pod, sb *sandbox) (*corev1.Pod, error) {
	sb.mu.Lock()
	done := sb.annotated
	sb.mu.Unlock()
	if done || pod.Annotations[NetnsAnnotation] == sb.rec.Netns {
		return pod, nil
	}
	patch := fmt.Sprintf(`{"metadata":{"uid":%q,"annotations":{%q:%q}}}`, pod.UID, NetnsAnnotation, sb.rec.Netns)
	updated, err := a.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return nil, fmt.Errorf("annotating the pod: %w", err)
	}
	sb.mu.Lock()
	sb.annotated = true
	sb.mu.Unlock()
	return updated, nil
}

// writeStatus writes the pod's status when it changed.
func (a *Agent) writeStatus(ctx context.Context, pod *corev1.Pod, sb *sandbox) error {
	status := podStatus(pod, sb.view(a.cfg.NodeIPs), metav1.Now().Rfc3339Copy())
	if apiequality.Semantic.DeepEqual(status, pod.Status) {
		return nil
	}
	sb.mu.Lock()
	stale := sb.staleRV != "" && sb.staleRV == pod.ResourceVersion
	sb.mu.Unlock()
	if stale {
		// The informer has not seen the last write yet; its event syncs
		// the pod again.
		return nil
	}
	p := pod.DeepCopy()
	p.Status = status
	if _, err := a.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		a.metrics.statusUpdates.WithLabelValues("error").Inc()
		return fmt.Errorf("updating the status: %w", err)
	}
	a.metrics.statusUpdates.WithLabelValues("success").Inc()
	sb.mu.Lock()
	sb.staleRV = pod.ResourceVersion
	sb.mu.Unlock()
	return nil
}

// syncHostPorts writes the hostPort rules of every sandbox whose network is
// up.
func (a *Agent) syncHostPorts(ctx context.Context) error {
	a.hostPortsMu.Lock()
	defer a.hostPortsMu.Unlock()
	a.mu.Lock()
	var mappings []hostPortMapping
	for _, sb := range a.sandboxes {
		sb.mu.Lock()
		if sb.netReady && !sb.host {
			mappings = append(mappings, podHostPorts(sb.pod, sb.rec.IPs)...)
		}
		sb.mu.Unlock()
	}
	a.mu.Unlock()
	return a.hostPorts.Sync(ctx, mappings)
}
