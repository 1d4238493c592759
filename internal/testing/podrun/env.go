package podrun

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// env resolves the container's environment: the image's, envFrom, then env.
func (p *Pod) env(ctx context.Context, spec corev1.Container, img Image) (map[string]string, error) {
	env := map[string]string{}
	for k, v := range img.Env {
		env[k] = v
	}
	for _, from := range spec.EnvFrom {
		data, err := p.source(ctx, from.SecretRef, from.ConfigMapRef)
		if err != nil {
			return nil, err
		}
		for k, v := range data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range spec.Env {
		if e.ValueFrom == nil {
			env[e.Name] = expand([]string{e.Value}, env)[0]
			continue
		}
		v, err := p.valueFrom(ctx, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		env[e.Name] = v
	}
	return env, nil
}

func (p *Pod) source(ctx context.Context, secret *corev1.SecretEnvSource, cm *corev1.ConfigMapEnvSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case secret != nil:
		s := &corev1.Secret{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: secret.Name}, s); err != nil {
			if secret.Optional != nil && *secret.Optional {
				return out, nil
			}
			return nil, err
		}
		for k, v := range s.Data {
			out[k] = string(v)
		}
	case cm != nil:
		c := &corev1.ConfigMap{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: cm.Name}, c); err != nil {
			if cm.Optional != nil && *cm.Optional {
				return out, nil
			}
			return nil, err
		}
		for k, v := range c.Data {
			out[k] = v
		}
	}
	return out, nil
}

func (p *Pod) valueFrom(ctx context.Context, from *corev1.EnvVarSource) (string, error) {
	switch {
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s := &corev1.Secret{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, s); err != nil {
			return "", err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("the Secret %s has no key %s", ref.Name, ref.Key)
		}
		return string(v), nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		c := &corev1.ConfigMap{}
		if err := p.Reader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: ref.Name}, c); err != nil {
			return "", err
		}
		v, ok := c.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("ConfigMap %s has no key %s", ref.Name, ref.Key)
		}
		return v, nil
	case from.FieldRef != nil:
		switch from.FieldRef.FieldPath {
		case "metadata.namespace":
			return p.Namespace, nil
		case "metadata.name":
			return p.Name, nil
		case "status.podIP":
			return "127.0.0.1", nil
		}
		return "", fmt.Errorf("field %s is not supported", from.FieldRef.FieldPath)
	}
	return "", errors.New("unsupported env source")
}

// expand replaces $(VAR) with the variable's value, as the kubelet does in
// commands, args and env values; $$ is a literal $, unknown references stay.
func expand(in []string, env map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = varRef.ReplaceAllStringFunc(s, func(m string) string {
			if m == "$$" {
				return "$"
			}
			if v, ok := env[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	return out
}

func portOf(c corev1.Container, port intstr.IntOrString) (int, error) {
	s := port.String()
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	for _, p := range c.Ports {
		if p.Name == s {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port %s", c.Name, s)
}
