package plan

import (
	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// ConfigFor is the planner's configuration read from a ChatBackend's matrix
// section: its server name, user id template, room names, invitations and Owner power level. The
// operator's connector and collabctl both build their planner from it, so the
// aliases and user ids they compute are the same.
func ConfigFor(spec *collabv1.MatrixBackend) Config {
	cfg := Config{ServerName: spec.ServerName, UserIDTemplate: spec.UserIDTemplate, RoomNameTemplate: spec.RoomNameTemplate,
		InvitePerRoom: spec.Invitations == collabv1.InvitationsPerRoom}
	if spec.OwnerPowerLevel != nil {
		cfg.OwnerLevel = int(*spec.OwnerPowerLevel)
	}
	return cfg
}
