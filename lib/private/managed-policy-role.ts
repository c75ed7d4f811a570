import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * An IAM role whose grants land in one customer-managed policy attached to it, instead of an inline
 * `DefaultPolicy`. NIST 800-53 and HIPAA rule packs forbid inline policies (IAMNoInlinePolicy); CDK grants
 * (`bucket.grantRead(role)`, `role.addToPrincipalPolicy`) keep working unchanged.
 */
export class ManagedPolicyRole extends iam.Role {
  private managedPolicy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
  }

  /** The customer-managed policy holding this role's grants (created with the first statement). */
  public get grantsPolicy(): iam.ManagedPolicy | undefined {
    return this.managedPolicy;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    if (!this.managedPolicy) {
      this.managedPolicy = new iam.ManagedPolicy(this, 'Policy', {
        description: `Grants of ${this.node.path}`,
        roles: [this],
      });
    }
    this.managedPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.managedPolicy };
  }
}
