# The CloudHSM cluster that holds the root key. No aws_cloudhsm_v2_hsm here: HSMs are
# ephemeral, created for a ceremony by `rust-pki bastion up` (restored from the latest backup)
# and deleted by `rust-pki bastion down` once a backup newer than the ceremony exists. The
# cluster, its backups and its security group persist.

resource "aws_cloudhsm_v2_cluster" "root" {
  hsm_type   = var.hsm_type
  subnet_ids = aws_subnet.private[*].id

  tags = {
    Name                    = "rust-pki-root"
    (local.names.tag_key) = local.names.cluster_role
  }

  lifecycle {
    # Deleting the cluster deletes nothing the backups need, but it is never routine.
    prevent_destroy = true
  }
}

# Backup retention. The AWS provider (5.x, and 6.x at the time of writing) has no
# backup_retention_policy argument on aws_cloudhsm_v2_cluster (only hsm_type, mode,
# source_backup_identifier, subnet_ids, tags), so terraform applies it with the CloudHSM
# ModifyCluster API through the AWS CLI of whoever runs `terraform apply`, and re-applies it
# whenever the value or the cluster changes. `rust-pki bastion backups` shows the policy.
resource "terraform_data" "cluster_backup_retention" {
  triggers_replace = [aws_cloudhsm_v2_cluster.root.cluster_id, var.backup_retention_days]

  provisioner "local-exec" {
    command = "aws cloudhsmv2 modify-cluster --region ${var.region} --cluster-id ${aws_cloudhsm_v2_cluster.root.cluster_id} --backup-retention-policy Type=DAYS,Value=${var.backup_retention_days}"
  }
}

# The cluster's own security group (created by CloudHSM, attached to every HSM ENI) accepts
# the CloudHSM client ports from the bastion's security group and nothing else we add.
# CloudHSM itself puts a self-referencing 2223-2225 rule on it for HSM-to-HSM synchronisation.
resource "aws_vpc_security_group_ingress_rule" "hsm_from_bastion" {
  security_group_id            = aws_cloudhsm_v2_cluster.root.security_group_id
  description                  = "CloudHSM client ports from the bastion only"
  ip_protocol                  = "tcp"
  from_port                    = local.hsm_port_from
  to_port                      = local.hsm_port_to
  referenced_security_group_id = aws_security_group.bastion.id
}
