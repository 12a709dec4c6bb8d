output "cluster_id" {
  description = "CloudHSM cluster id (rust-pki bastion also finds it by its role tag)."
  value       = aws_cloudhsm_v2_cluster.root.cluster_id
}

output "bastion_instance_id" {
  description = "Bastion instance id (rust-pki bastion also finds it by its role tag)."
  value       = aws_instance.bastion.id
}

output "eic_endpoint_id" {
  description = "EC2 Instance Connect Endpoint id: `aws ec2-instance-connect ssh --instance-id ... --connection-type eice`."
  value       = aws_ec2_instance_connect_endpoint.bastion.id
}

output "backup_retention_days" {
  description = "CloudHSM backup retention applied by terraform_data.cluster_backup_retention."
  value       = var.backup_retention_days
}

output "dr_region" {
  description = "Region `rust-pki bastion backups copy` copies backups to."
  value       = var.dr_region
}

output "member_role_arns" {
  description = "Per-member role ARNs (assume with MFA)."
  value       = { for id, role in aws_iam_role.member : id => role.arn }
}

output "alarm_topic_arn" {
  description = "SNS topic the bastion alarms publish to."
  value       = aws_sns_topic.alarms.arn
}

output "operator_role_arn" {
  description = "The operator's role (assume with MFA) for `rust-pki bastion`."
  value       = aws_iam_role.operator.arn
}

output "hsm_ip_addresses" {
  description = "The fixed addresses of the ephemeral HSMs, one per subnet (CreateHsm IpAddress)."
  value       = local.hsm_ips
}
