package devcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/testing/dendrite"
	"github.com/opencommons/collab-operator/internal/testing/matrixuser"
)

const (
	// devBackend is the ChatBackend the samples point at.
	devBackend = "local-matrix"
	// operatorNamespace holds the ChatBackend's Secret, as in a real install.
	operatorNamespace = "collab-operator-system"
)

// samplePeople are the User members of the samples; each gets an account so a
// person can log in with any Matrix client and look around.
var samplePeople = []string{"alice", "bob", "carol", "dave", "erin", "frank"}

// colleagues are the rest of engineering and marketing (through their groups):
// enough people for the openness insights to show figures (make dev's
// conversation, conversation.go) past the sample policy's minimum of 8.
var (
	engineers = []string{"gina", "hugo", "ines", "jack", "kate"}
	marketers = []string{"liam", "mia", "noah", "olga", "paul"}
)

// devPeople are everyone with an account and a directory entry.
func devPeople() []string {
	return append(append(slices.Clone(samplePeople), engineers...), marketers...)
}

// startDendrite runs a homeserver, registers the operator's account and the samples'
// people, and wires a ChatBackend to it through a Secret, as a platform team would.
func (e *Env) startDendrite(ctx context.Context) error {
	hs, err := dendrite.Start(ctx, dendrite.Options{
		Dir:    filepath.Join(e.dir, "dendrite"),
		BinDir: e.binDirs["dendrite"],
	})
	if err != nil {
		return err
	}
	e.stoppers = append(e.stoppers, func() { _ = hs.Stop() })
	e.homeserver = hs

	id, token, err := hs.RegisterUser(ctx, "collab-operator", devPassword("collab-operator"), true)
	if err != nil {
		return err
	}
	e.operator = matrixuser.New(hs.URL, id, token)
	for _, name := range devPeople() {
		if _, _, err := hs.RegisterUser(ctx, name, devPassword(name), false); err != nil {
			return err
		}
	}
	return e.createChatBackend(ctx, token)
}

// devPassword is the password of a local test account; nothing here is secret.
func devPassword(user string) string { return "password-" + user }

func (e *Env) createChatBackend(ctx context.Context, token string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}
	if err := e.client.Create(ctx, ns); err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "local-matrix-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"accessToken": []byte(token)},
	}
	if err := e.client.Create(ctx, secret); err != nil {
		return err
	}
	return e.client.Create(ctx, &collabv1.ChatBackend{
		ObjectMeta: metav1.ObjectMeta{Name: devBackend},
		Spec: collabv1.ChatBackendSpec{
			Matrix: &collabv1.MatrixBackend{
				HomeserverURL:        e.homeserver.URL,
				ServerName:           e.homeserver.ServerName,
				CredentialsSecretRef: collabv1.SecretReference{Namespace: operatorNamespace, Name: secret.Name},
				DirectorySpace:       &collabv1.DirectorySpace{Name: "Open Commons"},
			},
			PollInterval: metav1.Duration{Duration: 30 * time.Second},
		},
	})
}

// reportChat prints each sample space's rooms as Matrix reports them, read with the
// operator's account from the homeserver itself, not from the CRD's status.
func (e *Env) reportChat(ctx context.Context) {
	e.say("Rooms as Matrix reports them (%s)", e.homeserver.URL)
	var spaces collabv1.CollaborationSpaceList
	if err := e.client.List(ctx, &spaces); err != nil {
		e.say("cannot list spaces: %v", err)
		return
	}
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "SPACE\tALIAS\tNAME\tJOIN RULE\tTOPIC")
	for _, s := range spaces.Items {
		if s.Status.Chat == nil {
			continue
		}
		e.printRoom(ctx, w, s.Namespace+"/"+s.Name, s.Status.Chat.SpaceID)
		for _, r := range s.Status.Chat.Rooms {
			e.printRoom(ctx, w, "", r.RoomID)
		}
	}
	_ = w.Flush()
}

func (e *Env) printRoom(ctx context.Context, w *tabwriter.Writer, space, roomID string) {
	var alias struct {
		Alias string `json:"alias"`
	}
	var name struct {
		Name string `json:"name"`
	}
	var topic struct {
		Topic string `json:"topic"`
	}
	var rule struct {
		JoinRule string `json:"join_rule"`
	}
	_ = e.operator.State(ctx, roomID, "m.room.canonical_alias", &alias)
	_ = e.operator.State(ctx, roomID, "m.room.name", &name)
	_ = e.operator.State(ctx, roomID, "m.room.topic", &topic)
	_ = e.operator.State(ctx, roomID, "m.room.join_rules", &rule)
	_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", space, alias.Alias, name.Name, rule.JoinRule, topic.Topic)
}
