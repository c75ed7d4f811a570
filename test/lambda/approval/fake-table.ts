/**
 * An in-memory stand-in for the approval table behind `aws-sdk-client-mock`: GetItem, UpdateItem, TransactWriteItems
 * and Query, with the subset of DynamoDB's condition and update expressions the approval code uses (AND of
 * comparisons and attribute_(not_)exists; SET with if_not_exists(...) + n, REMOVE, DELETE from a string set).
 * Conditions are evaluated as DynamoDB does: all of a transaction's conditions first, then all writes, or none.
 * Unsupported syntax throws, so an expression the fake does not understand fails the test instead of passing it.
 */
import {
  AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  GetItemCommandInput,
  QueryCommand,
  QueryCommandInput,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  TransactWriteItemsCommandInput,
  UpdateItemCommand,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { AwsStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue> | undefined;

function resolveName(token: string, names: Names): string {
  if (!token.startsWith('#')) throw new Error(`fake-table: bare attribute name ${token}`);
  const name = names?.[token];
  if (name === undefined) throw new Error(`fake-table: undefined name ${token}`);
  return name;
}

function resolveValue(token: string, values: Values): AttributeValue {
  const value = values?.[token];
  if (value === undefined) throw new Error(`fake-table: undefined value ${token}`);
  return value;
}

function compare(a: AttributeValue | undefined, b: AttributeValue): number | undefined {
  if (a === undefined) return undefined;
  if ('N' in a && 'N' in b && a.N !== undefined && b.N !== undefined) return Number(a.N) - Number(b.N);
  if ('S' in a && 'S' in b && a.S !== undefined && b.S !== undefined) return a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  return undefined;
}

/** Evaluates a condition expression (terms joined by AND) against an item (undefined: no item). */
export function evaluateCondition(expression: string, item: Item | undefined, names: Names, values: Values): boolean {
  const terms = expression.split(/\s+AND\s+/);
  return terms.every((raw) => {
    const term = raw.trim();
    if (/\bOR\b/.test(term) || term.includes('(') && !/^attribute_(not_)?exists\(/.test(term)) throw new Error(`fake-table: unsupported condition ${term}`);
    let m = /^attribute_not_exists\((#\w+)\)$/.exec(term);
    if (m) return item === undefined || item[resolveName(m[1], names)] === undefined;
    m = /^attribute_exists\((#\w+)\)$/.exec(term);
    if (m) return item !== undefined && item[resolveName(m[1], names)] !== undefined;
    m = /^(#\w+)\s*(=|<>|>=|<=|>|<)\s*(:\w+)$/.exec(term);
    if (!m) throw new Error(`fake-table: unsupported condition ${term}`);
    const c = compare(item?.[resolveName(m[1], names)], resolveValue(m[3], values));
    if (c === undefined) return false;
    switch (m[2]) {
      case '=':
        return c === 0;
      case '<>':
        return c !== 0;
      case '>':
        return c > 0;
      case '<':
        return c < 0;
      case '>=':
        return c >= 0;
      default:
        return c <= 0;
    }
  });
}

/** Applies an update expression to a copy of an item (created with its key when absent). */
export function applyUpdate(expression: string, item: Item, names: Names, values: Values): Item {
  const out: Item = { ...item };
  const clauses = expression.split(/\b(?=SET |REMOVE |DELETE |ADD )/).map((c) => c.trim()).filter(Boolean);
  for (const clause of clauses) {
    const [keyword, ...rest] = clause.split(/\s+/);
    const body = clause.slice(keyword.length).trim();
    if (keyword === 'SET') {
      for (const assignment of body.split(/,\s*(?![^(]*\))/)) {
        let m = /^(#\w+)\s*=\s*(:\w+)$/.exec(assignment.trim());
        if (m) {
          out[resolveName(m[1], names)] = resolveValue(m[2], values);
          continue;
        }
        m = /^(#\w+)\s*=\s*if_not_exists\((#\w+),\s*(:\w+)\)\s*\+\s*(:\w+)$/.exec(assignment.trim());
        if (m) {
          const base = out[resolveName(m[2], names)] ?? resolveValue(m[3], values);
          out[resolveName(m[1], names)] = { N: String(Number(base.N) + Number(resolveValue(m[4], values).N)) };
          continue;
        }
        m = /^(#\w+)\s*=\s*if_not_exists\((#\w+),\s*(:\w+)\)$/.exec(assignment.trim());
        if (m) {
          out[resolveName(m[1], names)] = out[resolveName(m[2], names)] ?? resolveValue(m[3], values);
          continue;
        }
        throw new Error(`fake-table: unsupported SET ${assignment}`);
      }
    } else if (keyword === 'REMOVE') {
      for (const name of body.split(/,\s*/)) delete out[resolveName(name.trim(), names)];
    } else if (keyword === 'DELETE') {
      const m = /^(#\w+)\s+(:\w+)$/.exec(body);
      if (!m || rest.length !== 2) throw new Error(`fake-table: unsupported DELETE ${body}`);
      const name = resolveName(m[1], names);
      const remove = resolveValue(m[2], values).SS ?? [];
      const current = out[name]?.SS;
      if (current !== undefined) {
        const left = current.filter((v) => !remove.includes(v));
        if (left.length === 0) delete out[name];
        else out[name] = { SS: left };
      }
    } else {
      throw new Error(`fake-table: unsupported clause ${clause}`);
    }
  }
  return out;
}

/** The in-memory table. */
export class FakeTable {
  public readonly items = new Map<string, Item>();

  /** Installs the fake on a DynamoDB client mock (call after `mock.reset()`). */
  public install(mock: AwsStub<any, any, any>): void {
    mock.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
      const item = this.items.get(String(input.Key?.id?.S));
      return item ? { Item: structuredClone(item) } : {};
    });
    mock.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      const id = String(input.Key?.id?.S);
      const current = this.items.get(id);
      if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, current, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
      }
      this.items.set(id, applyUpdate(String(input.UpdateExpression), current ?? { id: { S: id } }, input.ExpressionAttributeNames, input.ExpressionAttributeValues));
      return {};
    });
    mock.on(TransactWriteItemsCommand).callsFake((input: TransactWriteItemsCommandInput) => {
      const actions = input.TransactItems ?? [];
      const reasons = actions.map((a) => {
        const op = a.Put ?? a.Update ?? a.ConditionCheck ?? a.Delete;
        if (!op) throw new Error('fake-table: empty action');
        const id = String(a.Put ? a.Put.Item?.id?.S : (op as { Key?: Item }).Key?.id?.S);
        const ok = !op.ConditionExpression || evaluateCondition(op.ConditionExpression, this.items.get(id), op.ExpressionAttributeNames, op.ExpressionAttributeValues);
        return { Code: ok ? 'None' : 'ConditionalCheckFailed' };
      });
      if (reasons.some((r) => r.Code !== 'None')) {
        throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: { httpStatusCode: 400 }, CancellationReasons: reasons });
      }
      for (const a of actions) {
        if (a.Put) this.items.set(String(a.Put.Item!.id.S), structuredClone(a.Put.Item!));
        if (a.Update) {
          const id = String(a.Update.Key!.id.S);
          this.items.set(id, applyUpdate(a.Update.UpdateExpression!, this.items.get(id) ?? { id: { S: id } }, a.Update.ExpressionAttributeNames, a.Update.ExpressionAttributeValues));
        }
      }
      return {};
    });
    mock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      const now = Number(input.ExpressionAttributeValues?.[':now']?.N);
      const matching = [...this.items.values()]
        .filter((i) => i.queue?.S === 'PENDING' && Number(i.expiresAt?.N) > now)
        .sort((a, b) => Number(a.expiresAt.N) - Number(b.expiresAt.N))
        .slice(0, input.Limit ?? 1000)
        .map((i) => {
          const projected: Item = {};
          for (const k of ['id', 'queue', 'expiresAt', 'kind', 'tool', 'principal', 'createdAt']) if (i[k] !== undefined) projected[k] = i[k];
          return projected;
        });
      return { Items: matching, Count: matching.length };
    });
  }
}

/** A DynamoDB client for the mock (region set so that no environment is read). */
export function testDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
}
